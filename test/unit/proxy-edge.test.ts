import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { pino } from 'pino';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import { StaticUpstreams } from '../../src/proxy/static-upstreams.js';
import type { RequestRecord } from '../../src/store/store.js';
import { waitFor } from '../support/wait-for.js';

/** What the app behind berth received, as it answers it. */
interface Seen {
  url: string;
  rawHeaders: string[];
  bytes: number;
}

let echo: Server;
let resetter: Server;
let proxy: ProxyServer;
let trustingProxy: ProxyServer;
let port = 0;
let trustingPort = 0;
let echoHits = 0;
const records: RequestRecord[] = [];

before(async () => {
  echo = createServer((req, res) => {
    echoHits++;
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      const body = JSON.stringify({ url: req.url ?? '', rawHeaders: req.rawHeaders, bytes } satisfies Seen);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  // An app that drops the connection as soon as a request arrives (issue 9, crash 3).
  resetter = createServer((req) => {
    req.once('data', () => req.socket.destroy());
    req.once('end', () => req.socket.destroy());
  });
  await Promise.all([echo, resetter].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
  const echoPort = (echo.address() as AddressInfo).port;
  const resetPort = (resetter.address() as AddressInfo).port;
  const routes = () =>
    new RouteTable([
      { app: 'echo', routes: [{ path: '/session/echo/', stripPrefix: true }] },
      { app: 'raw', routes: [{ path: '/session/raw/', stripPrefix: false }] },
      { app: 'hosted', routes: [{ host: 'hosted.example', stripPrefix: false }] },
      { app: 'reset', routes: [{ path: '/session/reset/', stripPrefix: true }] },
    ]);
  const upstreams = () =>
    new StaticUpstreams({
      echo: { host: '127.0.0.1', port: echoPort },
      raw: { host: '127.0.0.1', port: echoPort },
      hosted: { host: '127.0.0.1', port: echoPort },
      reset: { host: '127.0.0.1', port: resetPort },
    });
  proxy = new ProxyServer({ routes: routes(), upstreams: upstreams(), logger: pino({ level: 'silent' }), onRequestDone: (r) => records.push(r) });
  port = (await proxy.listen('127.0.0.1', 0)).port;
  trustingProxy = new ProxyServer({ routes: routes(), upstreams: upstreams(), trustedProxies: ['127.0.0.1'], logger: pino({ level: 'silent' }) });
  trustingPort = (await trustingProxy.listen('127.0.0.1', 0)).port;
});

after(async () => {
  await proxy.close(1000);
  await trustingProxy.close(1000);
  await Promise.all([echo, resetter].map((s) => new Promise<void>((r) => s.close(() => r()))));
});

interface RawReply {
  status: number;
  head: string;
  body: string;
}

/** Sends raw bytes, reads until the server closes the connection (bounded by `timeoutMs`). */
function raw(text: string | Buffer, to = port, timeoutMs = 5000): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = connect(to, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${timeoutMs} ms; got ${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 200))}`));
    }, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined); // a reset after the answer is fine; the close below resolves
    socket.on('close', () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks).toString('latin1');
      const split = all.indexOf('\r\n\r\n');
      const head = split < 0 ? all : all.slice(0, split);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head, body: split < 0 ? '' : all.slice(split + 4) });
    });
    socket.write(text);
  });
}

/** A GET with `Connection: close`; `headers` are extra lines. */
function get(target: string, host = 'a.example', headers = ''): Promise<RawReply> {
  return raw(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\n${headers}Connection: close\r\n\r\n`);
}

function seen(reply: RawReply): Seen {
  assert.equal(reply.status, 200, `expected 200, got ${reply.head}\n${reply.body}`);
  return JSON.parse(reply.body) as Seen;
}

function headerValues(s: Seen, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.rawHeaders.length; i += 2) if (s.rawHeaders[i]!.toLowerCase() === name) out.push(s.rawHeaders[i + 1]!);
  return out;
}

async function assertAlive(): Promise<void> {
  const s = seen(await get('/session/echo/alive'));
  assert.equal(s.url, '/alive');
}

/** [target, the path+query the app must receive]. */
const routed: Array<[string, string]> = [
  ['/session/echo/x/../y%2Fz?q=1#frag', '/y%2Fz?q=1'],
  ['/session/echo/%2e%2e/%2e%2e/session/raw/a', '/session/raw/a'],
  ['/session/raw/../echo/a', '/a'],
  ['//session//echo//a', '/a'],
  ['/session/echo/%7Euser/%41', '/~user/A'],
  ['/session/echo/a|b', '/a%7Cb'],
  ['/_berth/../session/echo/b', '/b'],
  ['/session/raw/x/%2e/y', '/session/raw/x/y'],
];

for (const [target, expected] of routed) {
  test(`the app receives exactly the routed path: ${target} → ${expected}`, async () => {
    const s = seen(await get(target));
    assert.equal(s.url, expected);
  });
}

/** [request text, status]: refused before any routing, answered with connection: close. */
const refused: Array<[string, string, number]> = [
  ['bad escape', 'GET /session/echo/%zz HTTP/1.1\r\nHost: a.example\r\n\r\n', 400],
  ['short escape', 'GET /session/echo/%4 HTTP/1.1\r\nHost: a.example\r\n\r\n', 400],
  ['bad UTF-8', 'GET /session/echo/%C3%28 HTTP/1.1\r\nHost: a.example\r\n\r\n', 400],
  ['NUL', 'GET /session/echo/a%00.txt HTTP/1.1\r\nHost: a.example\r\n\r\n', 400],
  ['backslash', 'GET /session/echo/..\\..\\x HTTP/1.1\r\nHost: a.example\r\n\r\n', 400],
  ['duplicate Host', 'GET /session/echo/ HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n', 400],
  ['duplicate Host, other case', 'GET /session/echo/ HTTP/1.1\r\nHost: a.example\r\nhOST: a.example\r\n\r\n', 400],
  ['missing Host', 'GET /session/echo/ HTTP/1.1\r\n\r\n', 400],
  ['empty Host', 'GET /session/echo/ HTTP/1.1\r\nHost: \r\n\r\n', 400],
  ['invalid Host', 'GET /session/echo/ HTTP/1.1\r\nHost: a,b\r\n\r\n', 400],
  ['Host with a bad port', 'GET /session/echo/ HTTP/1.1\r\nHost: a.example:99999\r\n\r\n', 400],
  ['asterisk-form', 'OPTIONS * HTTP/1.1\r\nHost: a.example\r\n\r\n', 400],
  ['userinfo', 'GET http://u:p@a.example/session/echo/ HTTP/1.1\r\nHost: a.example\r\n\r\n', 400],
  ['other scheme', 'GET ftp://a.example/session/echo/ HTTP/1.1\r\nHost: a.example\r\n\r\n', 400],
  ['CONNECT', 'CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n', 405],
  ['malformed request line', 'GET /a b c\r\n\r\n', 400],
  ['bad header line', 'GET / HTTP/1.1\r\nHost: a.example\r\nno colon here\r\n\r\n', 400],
  ['conflicting lengths', 'POST /session/echo/ HTTP/1.1\r\nHost: a.example\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 400],
];

for (const [name, text, status] of refused) {
  test(`refused with ${status} and the connection closed: ${name}`, async () => {
    const hits = echoHits;
    const reply = await raw(text);
    assert.equal(reply.status, status, reply.head);
    assert.match(reply.head, /\r\nconnection: close/i);
    assert.equal(echoHits, hits, 'the app never saw it');
    await assertAlive();
  });
}

test('an absolute-form target is sent its authority as Host; a Host naming another host is refused', async () => {
  const refused = await raw('GET http://hosted.example/y HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n');
  assert.equal(refused.status, 400);
  const s = seen(await raw('GET http://Hosted.Example.:81/x/../y?q#f HTTP/1.1\r\nHost: hosted.example\r\nConnection: close\r\n\r\n'));
  assert.equal(s.url, '/y?q');
  assert.deepEqual(headerValues(s, 'host'), ['hosted.example:81']);
  assert.deepEqual(headerValues(s, 'x-forwarded-host'), ['hosted.example:81']);
});

test('Host is matched without case, port and trailing dot, and sent normalised', async () => {
  const s = seen(await get('/anything', 'HOSTED.example.:8080'));
  assert.equal(s.url, '/anything');
  assert.deepEqual(headerValues(s, 'host'), ['hosted.example:8080']);
});

// Node's server refused it first, with a bare 400 and an empty body: berth's own check never ran.
test('an HTTP/1.1 request without Host is refused problem+json, naming the Host', async () => {
  const reply = await raw('GET /session/echo/ HTTP/1.1\r\nConnection: close\r\n\r\n');
  assert.equal(reply.status, 400, reply.head);
  assert.match(reply.head, /\r\ncontent-type: application\/problem\+json/i);
  const body = JSON.parse(reply.body) as { code: string; detail: string };
  assert.equal(body.code, 'bad_request');
  assert.match(body.detail, /no Host header/);
  await assertAlive();
});

test('an HTTP/1.0 request without Host is routed by path', async () => {
  const s = seen(await raw('GET /session/echo/old HTTP/1.0\r\n\r\n'));
  assert.equal(s.url, '/old');
  const host = headerValues(s, 'host');
  assert.equal(host.length, 1);
  assert.notEqual(host[0], '', 'no empty Host is sent upstream');
});

test('berth endpoints see the normalised path', async () => {
  const reply = await get('/x/../_berth/status/echo');
  assert.equal(reply.status, 200, reply.head);
  assert.deepEqual(JSON.parse(reply.body), { app: 'echo', state: 'running', ready: true });
  const encoded = await get('/%5Fberth/status/echo');
  assert.equal(encoded.status, 200, 'an escaped unreserved character is the same path');
});

test('identity headers from an untrusted client are replaced by berth’s own; folding names are dropped', async () => {
  const s = seen(
    await get(
      '/session/echo/id',
      'a.example:8080',
      'X-Forwarded-For: 6.6.6.6\r\nX_Forwarded_For: 6.6.6.6\r\nX-Forwarded-Host: evil\r\nX-Forwarded-Port: 1\r\nX-Forwarded-Prefix: /admin\r\n' +
        'X-Real-IP: 6.6.6.6\r\nForwarded: for=6.6.6.6\r\nRemote_User: admin\r\nX.Auth: x\r\nX-Kept: yes\r\n',
    ),
  );
  assert.deepEqual(headerValues(s, 'x-forwarded-for'), ['127.0.0.1']);
  assert.deepEqual(headerValues(s, 'x-forwarded-proto'), ['http']);
  assert.deepEqual(headerValues(s, 'x-forwarded-host'), ['a.example:8080']);
  assert.deepEqual(headerValues(s, 'x-real-ip'), ['127.0.0.1']);
  assert.deepEqual(headerValues(s, 'forwarded'), ['for=127.0.0.1;proto=http;host="a.example:8080"']);
  assert.deepEqual(headerValues(s, 'x-forwarded-port'), []);
  // The client's /admin is dropped; the route strips /session/echo/, which berth names itself.
  assert.deepEqual(headerValues(s, 'x-forwarded-prefix'), ['/session/echo']);
  assert.deepEqual(headerValues(s, 'x-kept'), ['yes']);
  const names = s.rawHeaders.filter((_, i) => i % 2 === 0);
  assert.ok(!names.some((n) => n.includes('_') || n.includes('.')), `no folding names upstream: ${names.join(', ')}`);
  assert.deepEqual(headerValues(s, 'host'), ['a.example:8080']);
});

test('identity headers from a trusted proxy are extended', async () => {
  const reply = await raw(
    'GET /session/echo/t HTTP/1.1\r\nHost: a.example\r\nX-Forwarded-For: 1.1.1.1\r\nForwarded: for=1.1.1.1;proto=https\r\n' +
      'X-Forwarded-Proto: https\r\nX-Forwarded-Port: 443\r\nX-Real-IP: 1.1.1.1\r\nConnection: close\r\n\r\n',
    trustingPort,
  );
  const s = seen(reply);
  assert.deepEqual(headerValues(s, 'x-forwarded-for'), ['1.1.1.1, 127.0.0.1']);
  assert.deepEqual(headerValues(s, 'forwarded'), ['for=1.1.1.1;proto=https, for=127.0.0.1;proto=http;host=a.example']);
  assert.deepEqual(headerValues(s, 'x-forwarded-proto'), ['https']);
  assert.deepEqual(headerValues(s, 'x-forwarded-port'), ['443']);
  assert.deepEqual(headerValues(s, 'x-real-ip'), ['1.1.1.1']);
});

// A balancer's subnet listed as a range (Traefik's trustedIPs, Caddy's trusted_proxies) is trusted
// as its address would be.
test('identity headers from a peer inside a trusted range are extended', async () => {
  const ranged = new ProxyServer({ routes: new RouteTable([{ app: 'echo', routes: [{ path: '/session/echo/', stripPrefix: true }] }]), upstreams: new StaticUpstreams({ echo: { host: '127.0.0.1', port: (echo.address() as AddressInfo).port } }), trustedProxies: ['127.0.0.0/8'], logger: pino({ level: 'silent' }) });
  const rangedPort = (await ranged.listen('127.0.0.1', 0)).port;
  try {
    const reply = await raw('GET /session/echo/t HTTP/1.1\r\nHost: a.example\r\nX-Forwarded-For: 1.1.1.1\r\nX-Real-IP: 1.1.1.1\r\nConnection: close\r\n\r\n', rangedPort);
    const s = seen(reply);
    assert.deepEqual(headerValues(s, 'x-forwarded-for'), ['1.1.1.1, 127.0.0.1']);
    assert.deepEqual(headerValues(s, 'x-real-ip'), ['1.1.1.1']);
  } finally {
    await ranged.close(1000);
  }
});

function headerLines(n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += `X-H${i}: ${i}\r\n`;
  return out;
}

test('100 header fields pass; 101 get 431, never truncated', async () => {
  // Host and Connection are two of them.
  const ok = seen(await get('/session/echo/h', 'a.example', headerLines(98)));
  assert.equal(headerValues(ok, 'x-h97').length, 1, 'the last header reached the app');
  const hits = echoHits;
  const tooMany = await raw(`POST /session/echo/h HTTP/1.1\r\nHost: a.example\r\n${headerLines(99)}Content-Length: 5\r\n\r\nhello`);
  assert.equal(tooMany.status, 431, tooMany.head);
  assert.match(tooMany.head, /\r\nconnection: close/i);
  assert.equal(echoHits, hits, 'the app never saw it');
});

test('more headers than Node keeps by default are refused, not truncated', async () => {
  const reply = await raw(`GET /session/echo/h HTTP/1.1\r\nHost: a.example\r\n${headerLines(2100)}\r\n`);
  assert.equal(reply.status, 431, reply.head);
  await assertAlive();
});

test('header bytes past maxHeaderSize get 431', async () => {
  const reply = await raw(`GET /session/echo/h HTTP/1.1\r\nHost: a.example\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
  assert.equal(reply.status, 431, reply.head);
  assert.match(reply.head, /connection: close/i);
  await assertAlive();
});

test('an app that drops the connection mid-POST is a 502; the gateway lives and records the client', async () => {
  for (let i = 0; i < 5; i++) {
    const reply = await raw(`POST /session/reset/x HTTP/1.1\r\nHost: a.example\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello`);
    assert.equal(reply.status, 502, reply.head);
  }
  // The client resets too, while the app drops: both sides gone at once.
  await new Promise<void>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write('PUT /session/reset/y HTTP/1.1\r\nHost: a.example\r\nContent-Length: 10\r\n\r\nhello');
      setTimeout(() => {
        socket.resetAndDestroy();
        resolve();
      }, 20);
    });
    socket.on('error', () => undefined);
  });
  // Records come after the answer is on the wire: polled, not a fixed 50 ms a loaded machine may not keep.
  await waitFor('the five 502s recorded', () => records.filter((r) => r.app === 'reset').length >= 5);
  const failed = records.filter((r) => r.app === 'reset');
  assert.ok(failed.length >= 5);
  assert.ok(failed.every((r) => r.client === '127.0.0.1'), JSON.stringify(failed.map((r) => r.client)));
  await assertAlive();
});

test('the history records the normalised path, with its query string', async () => {
  await get('/session/echo/h/../hist%2e?secret=1');
  assert.ok(records.some((r) => r.path === '/session/echo/hist.?secret=1'), JSON.stringify(records.map((r) => r.path)));
});

test('an upgrade is normalised and refused by the same rules', async () => {
  const reply = await raw('GET /session/echo/%zz HTTP/1.1\r\nHost: a.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
  assert.equal(reply.status, 400, reply.head);
  assert.match(reply.head, /connection: close/i);
});
