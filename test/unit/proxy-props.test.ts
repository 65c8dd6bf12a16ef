/**
 * Properties of the proxy's pure decisions over generated requests: one request is
 * read one way (path, host, target form), routed by what the app is then sent, and
 * an untrusted client cannot put words in berth's identity headers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { upstreamRequestHeaders } from '../../src/proxy/forwarded-headers.js';
import { normalizeHost } from '../../src/proxy/request-host.js';
import { normalizePath } from '../../src/proxy/request-path.js';
import { normalizeRequest } from '../../src/proxy/request-target.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import { TrustedPeers, trustedEntry } from '../../src/proxy/trusted-peers.js';
import type { RouteSpec } from '../../src/spec/types.js';

// Pieces that make dot segments, empty segments, escapes (of separators, dots, unreserved and non-ASCII) and raw oddities.
const piece = fc.constantFrom('/', '.', '..', 'a', 'b', 'A', '%2e', '%2E', '%2f', '%5c', '%41', '%7e', '%e2%82%ac', '%c3', '"', '~', '%25', '%', ';', '%3f', '%00', '\\', '_berth');
const rawPath = fc.array(piece, { maxLength: 10 }).map((p) => `/${p.join('')}`);

describe('normalizePath over generated paths', () => {
  it('is idempotent and leaves no dot or empty segment, backslash or NUL', () => {
    fc.assert(
      fc.property(rawPath, (raw) => {
        const path = normalizePath(raw);
        if (typeof path !== 'string') return;
        assert.equal(normalizePath(path), path, `normalised twice: ${raw}`);
        const segments = path.split('/').slice(1);
        // Only the last segment may be empty (a trailing slash).
        assert.ok(!segments.slice(0, -1).includes(''), `empty segment in ${path}`);
        assert.ok(!segments.some((s) => s === '.' || s === '..'), `dot segment in ${path}`);
        // An escaped dot is decoded (it is unreserved), so none is left to make a dot segment later.
        assert.doesNotMatch(path, /\\|%00|%2e/i);
        assert.doesNotThrow(() => decodeURIComponent(path));
      }),
      { numRuns: 1000 },
    );
  });
});

const label = fc.stringMatching(/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,3}[a-zA-Z0-9])?$/);
const hostname = fc.array(label, { minLength: 1, maxLength: 3 }).map((l) => l.join('.'));

describe('hosts and request targets over generated spellings', () => {
  it('every spelling of a host (case, port, one trailing dot) is one host', () => {
    fc.assert(
      fc.property(hostname, fc.boolean(), fc.option(fc.integer({ min: 0, max: 65_535 })), fc.boolean(), (name, dot, port, upper) => {
        const spelled = `${upper ? name.toUpperCase() : name}${dot ? '.' : ''}${port === null ? '' : `:${port}`}`;
        const given = normalizeHost(spelled);
        const plain = normalizeHost(name.toLowerCase());
        assert.ok(!('status' in given) && !('status' in plain), spelled);
        assert.equal(given.host, plain.host);
      }),
      { numRuns: 500 },
    );
  });

  it('an absolute-form target is read as the origin-form one with that Host', () => {
    fc.assert(
      fc.property(hostname, rawPath, fc.constantFrom('', '?q', '?a/../b', '#f', '?x#y'), fc.constantFrom('http', 'HTTP', 'https', 'HtTpS'), (host, path, tail, scheme) => {
        assert.deepEqual(normalizeRequest(`${scheme}://${host}${path}${tail}`, host, 1, true), normalizeRequest(path + tail, host, 1, true));
      }),
      { numRuns: 500 },
    );
  });
});

// Few distinct segments (escapes included), so prefixes overlap and the app names collide often.
const routeSegment = fc.constantFrom('a', 'b', 'ab', 'A', '%2F', '~');
const requestSegment = fc.constantFrom('a', 'b', 'ab', 'A', '%41', '%2F', '%2f', '%7E', '~', '.', '..', '%2e', '', '_berth');
const routeHost = fc.constantFrom(undefined, 'h.test', 'H.Test', '*.apps.test');

describe('RouteTable over generated route sets and requests', () => {
  it('what the app is sent is normalised, and its stripped prefix put back is what was routed', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ host: routeHost, segments: fc.array(routeSegment, { maxLength: 3 }), strip: fc.boolean() }), { minLength: 1, maxLength: 6 }),
        fc.constantFrom('h.test', 'H.TEST.', 'h.test:8080', 'app0.apps.test', 'APP1.apps.test.', 'other.test'),
        fc.array(requestSegment, { maxLength: 5 }),
        fc.constantFrom('', '?q', '?a/b', '/'),
        (apps, host, segments, tail) => {
          const table = new RouteTable(
            apps.map((a, i) => {
              const route: RouteSpec = { stripPrefix: a.strip && a.segments.length > 0 };
              if (a.host !== undefined) route.host = a.host;
              if (a.segments.length > 0 || a.host === undefined) route.path = `/${a.segments.join('/')}`;
              return { app: `app${i}`, routes: [route] };
            }),
          );
          const target = normalizeRequest(`/${segments.join('/')}${tail}`, host, 1, true);
          if ('status' in target) return;
          const url = target.path + target.query;
          const match = table.match(target.host, url, target.authority);
          if (match === undefined) return;
          const q = match.upstreamPath.indexOf('?');
          const sentPath = q < 0 ? match.upstreamPath : match.upstreamPath.slice(0, q);
          assert.equal(normalizePath(sentPath), sentPath, `sent ${match.upstreamPath} for ${url}`);
          const prefix = match.strippedPrefix;
          if (prefix === undefined) return assert.equal(match.upstreamPath, url);
          // `/p/x` is sent as `/x`; `/p` and `/p?q` as `/` and `/?q`.
          const restored = url.startsWith(`${prefix}/`) ? prefix + match.upstreamPath : prefix + match.upstreamPath.slice(1);
          assert.equal(restored, url);
        },
      ),
      { numRuns: 800 },
    );
  });
});

const identityName = fc.constantFrom('X-Forwarded-For', 'x-forwarded-for', 'X-FORWARDED-PROTO', 'x-forwarded-host', 'X-Forwarded-Port', 'x-forwarded-prefix', 'X-Forwarded-Ssl', 'Forwarded', 'FORWARDED', 'X-Real-IP', 'X_Forwarded_For', 'X.Forwarded.For', 'Client-IP', 'X-Original-URL', 'X-Url-Scheme');
const otherName = fc.constantFrom('Connection', 'connection', 'Host', 'Content-Type', 'x-request-id', 'Upgrade', 'TE', 'Keep-Alive');
const headerValue = fc.constantFrom('1.2.3.4', 'https', 'evil.test', 'for=1.2.3.4;proto=https', 'x-forwarded-for', 'close', 'keep-alive, x-forwarded-for', 'x-real-ip, forwarded', 'a, b', '');
/** Names as CGI, PHP and WSGI fold them (`X_Forwarded_For` → HTTP_X_FORWARDED_FOR): what the app may read them as. */
const folded = (name: string) => name.toLowerCase().replace(/[_.]/g, '-');
const IDENTITY = /^(x-forwarded-.*|forwarded|x-real-ip|client-ip|x-original-url|x-url-scheme)$/;

describe('identity headers from an untrusted peer', () => {
  it('are berth’s own, once each, whatever names, casing, repetition and lists the client sends', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.oneof(identityName, otherName), headerValue), { maxLength: 10 }), fc.boolean(), (pairs, encrypted) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of pairs) headers[name.toLowerCase()] ??= value;
        const out = upstreamRequestHeaders({ rawHeaders: pairs.flat(), headers }, { trustedPeer: false, client: '192.0.2.7', host: 'app.test', encrypted });
        const seen = new Map<string, string>();
        for (let i = 0; i < out.length; i += 2) {
          const name = folded(out[i]!);
          if (!IDENTITY.test(name)) continue;
          assert.ok(!seen.has(name), `${name} twice in ${JSON.stringify(out)}`);
          seen.set(name, out[i + 1]!);
        }
        const proto = encrypted ? 'https' : 'http';
        assert.deepEqual(Object.fromEntries(seen), {
          'x-forwarded-for': '192.0.2.7',
          'x-forwarded-proto': proto,
          'x-forwarded-host': 'app.test',
          'x-real-ip': '192.0.2.7',
          forwarded: `for=192.0.2.7;proto=${proto};host=app.test`,
        });
      }),
      { numRuns: 800 },
    );
  });
});

const quad = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
const asNumber = (q: readonly number[]) => ((q[0]! << 24) >>> 0) + (q[1]! << 16) + (q[2]! << 8) + q[3]!;

describe('trustedProxies ranges over generated networks and peers', () => {
  it('an IPv4 range trusts exactly the peers its bits match, however the network is written', () => {
    fc.assert(
      fc.property(quad, quad, fc.integer({ min: 0, max: 32 }), fc.constantFrom('v4', 'mapped', 'mapped-hex', 'mapped-long'), (net, peer, bits, form) => {
        const dotted = net.join('.');
        const hex = `${((net[0] << 8) | net[1]).toString(16)}:${((net[2] << 8) | net[3]).toString(16)}`;
        const written = { v4: `${dotted}/${bits}`, mapped: `::ffff:${dotted}/${bits + 96}`, 'mapped-hex': `::FFFF:${hex}/${bits + 96}`, 'mapped-long': `0:0:0:0:0:ffff:${dotted}/${bits + 96}` }[form];
        const entry = trustedEntry(written);
        assert.ok(entry !== undefined, `${written} refused`);
        const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
        const inside = ((asNumber(net) & mask) >>> 0) === ((asNumber(peer) & mask) >>> 0);
        assert.equal(new TrustedPeers([entry]).has(peer.join('.')), inside, `${written} (${entry}) and ${peer.join('.')}`);
      }),
      { numRuns: 500 },
    );
  });
});
