import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SniIndex } from '../../src/tls/sni-index.js';
import { hstsValue, httpsLocation, redirectsToHttps } from '../../src/tls/edge-policy.js';
import { buildConfig } from '../../src/config/load-config.js';
import { parseSpecObject } from '../../src/spec/index.js';
import { SpecError } from '../../src/errors.js';
import type { TlsConfig } from '../../src/config/config.js';
import { TlsEdge } from '../../src/tls/tls-edge.js';
import { pino } from 'pino';

const index = new SniIndex<string>();
index.add(['a.example.com', '*.apps.example.com'], 'file-1');
index.add(['a.example.com', 'b.example.com'], 'acme-a');
index.add(['*.example.com'], 'wild');

const sniCases: Array<[name: string, expected: string | undefined]> = [
  ['a.example.com', 'file-1'], // the first source added keeps a shared name
  ['A.Example.COM.', 'file-1'], // any case, the root dot allowed
  ['b.example.com', 'acme-a'],
  ['x.apps.example.com', 'file-1'], // wildcard: one label
  ['x.y.apps.example.com', undefined], // never two labels
  ['apps.example.com', 'wild'], // *.example.com covers apps.example.com
  ['example.com', undefined], // a wildcard never covers its own parent
  ['other.test', undefined],
  ['', undefined],
];
for (const [name, expected] of sniCases) {
  test(`SNI ${JSON.stringify(name)} → ${expected}`, () => assert.equal(index.lookup(name), expected));
}

const locationCases: Array<[authority: string, target: string, port: number, expected: string]> = [
  ['a.example.com', '/x?y=1', 443, 'https://a.example.com/x?y=1'],
  ['a.example.com:8080', '/x', 8443, 'https://a.example.com:8443/x'],
  ['[::1]:8080', '/', 443, 'https://[::1]/'],
  ['a.example.com', '/p%20q?a=b&c', 443, 'https://a.example.com/p%20q?a=b&c'],
];
for (const [authority, target, port, expected] of locationCases) {
  test(`redirect of ${authority}${target} to port ${port}`, () => assert.equal(httpsLocation(authority, target, port), expected));
}

test('a route says whether it redirects; unset, the gateway decides', () => {
  assert.equal(redirectsToHttps({ stripPrefix: false }, true), true);
  assert.equal(redirectsToHttps({ stripPrefix: false }, false), false);
  assert.equal(redirectsToHttps({ stripPrefix: false, redirectHttps: false }, true), false);
  assert.equal(redirectsToHttps({ stripPrefix: false, redirectHttps: true }, false), true);
});

test('HSTS values', () => {
  assert.equal(hstsValue({ maxAgeS: 31536000, includeSubDomains: false, preload: false }), 'max-age=31536000');
  assert.equal(hstsValue({ maxAgeS: 63072000, includeSubDomains: true, preload: true }), 'max-age=63072000; includeSubDomains; preload');
});

test('an app spec hsts block is normalised, and preload needs includeSubDomains and a year', () => {
  const spec = parseSpecObject({ apiVersion: 'berth/v1', name: 'a', image: 'x', port: 80, hsts: {} }, 'a');
  assert.deepEqual(spec.hsts, { maxAgeS: 31536000, includeSubDomains: false, preload: false });
  assert.throws(() => parseSpecObject({ apiVersion: 'berth/v1', name: 'a', image: 'x', port: 80, hsts: { preload: true, maxAge: '30d' } }, 'a'), (err: SpecError) => {
    const text = err.problems.map((p) => `${p.path}: ${p.message}`).join('\n');
    return /hsts\.preload: needs includeSubDomains/.test(text) && /hsts\.maxAge: must be at least 365d/.test(text);
  });
});

test('the tls block: defaults, paths resolved against the config, bad fields named', async () => {
  const config = await buildConfig({ tls: { certificates: [{ cert: 'c.pem', key: 'k.pem' }], acme: { email: 'ops@example.com', directory: 'https://ca.example/dir' } } }, '/etc/berth');
  assert.deepEqual(config.tls, {
    listen: { host: '127.0.0.1', port: 8443 },
    certificates: [{ cert: '/etc/berth/c.pem', key: '/etc/berth/k.pem' }],
    redirect: false,
    acme: { email: 'ops@example.com', directory: 'https://ca.example/dir', renewBeforeMs: 30 * 86_400_000, checkEveryMs: 3_600_000 },
  });
  await assert.rejects(buildConfig({ tls: { acme: { email: 'nope', directory: 'https://x/' } } }, '/'), /tls\.acme\.email/);
  await assert.rejects(buildConfig({ tls: { listen: 'a:b' } }, '/'), /tls: listen/);
  assert.equal((await buildConfig({ tls: {}, workers: 2 }, '/')).workers, 2, 'proxy workers serve HTTPS too');
});

test('tls.redirectPort: redirects name it (clients reach the listener through a mapping), else the listener port', async () => {
  const mapped = await buildConfig({ tls: { listen: '0.0.0.0:8443', redirect: true, redirectPort: 443 } }, '/');
  assert.equal(mapped.tls?.redirectPort, 443);
  assert.equal((await buildConfig({ tls: {} }, '/')).tls?.redirectPort, undefined);
  for (const bad of [0, 65536, 44.3, '443']) await assert.rejects(buildConfig({ tls: { redirectPort: bad } }, '/'), /tls\.redirectPort/);
  const match = { app: 'a', route: { stripPrefix: false }, upstreamPath: '/x', authority: 'a.example.com:8080' };
  const edge = (tls: TlsConfig) => new TlsEdge(tls, { logger: pino({ level: 'silent' }), specs: () => new Map(), tlsPort: () => 8443 });
  assert.equal(edge(mapped.tls!).redirect(match, '/x?q=1'), 'https://a.example.com/x?q=1');
  assert.equal(edge(mapped.tls!).snapshot().tlsPort, 443, 'proxy workers redirect the same way');
  assert.equal(edge({ ...mapped.tls!, redirectPort: 9443 }).redirect(match, '/x'), 'https://a.example.com:9443/x');
  const { redirectPort: _, ...unmapped } = mapped.tls!;
  assert.equal(edge(unmapped).redirect(match, '/x'), 'https://a.example.com:8443/x');
});
