import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { connect as http2Connect, type ClientHttp2Session } from 'node:http2';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import { StaticUpstreams } from '../../src/proxy/static-upstreams.js';
import { HttpsListener } from '../../src/tls/https-listener.js';
import type { RequestRecord } from '../../src/store/store.js';
import { makeCa, makeLeaf } from '../support/openssl-certs.js';
import { waitFor } from '../support/wait-for.js';

// The bytes a history record carries are the bytes that crossed the proxy, however the body was
// framed (Content-Length, chunked, HTTP/2 DATA frames, a WebSocket tunnel), and an app's interim
// answers (103 Early Hints, 100 Continue) reach the client before its final one, never in its place.

const LINK = '</style.css>; rel=preload; as=style';
let dir = '';
let app: Server;
let proxy: ProxyServer;
let https: HttpsListener;
let port = 0;
let tlsPort = 0;
let ca = '';
const contexts = new Map<string, SecureContext>();
const records: RequestRecord[] = [];
/** Body bytes the app has read, by its request target. */
const seen = new Map<string, number>();
const sessions: ClientHttp2Session[] = [];
const sockets: Socket[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-bytes-'));
  const authority = await makeCa(dir);
  ca = authority.pem;
  const leaf = await makeLeaf(dir, authority, 'a.test', ['a.test']);
  contexts.set('a.test', createSecureContext({ cert: await readFile(leaf.cert), key: await readFile(leaf.key) }));
  app = createServer((req, res) => {
    if (req.url?.endsWith('/hints')) {
      // An app that sends its hints, then its answer a moment later (as it would after a slow query).
      res.writeEarlyHints({ link: LINK });
      setTimeout(() => res.end('styled'), 20);
      return;
    }
    let bytes = 0;
    req.on('data', (c: Buffer) => seen.set(req.url ?? '', (bytes += c.length)));
    req.on('end', () => res.end(`read ${bytes}`));
  });
  // A WebSocket app that echoes every byte and ends its side when the client ends its own.
  app.on('upgrade', (_req, socket: Socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n');
    socket.on('data', (c: Buffer) => socket.write(c));
    socket.on('end', () => socket.end());
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const appPort = (app.address() as AddressInfo).port;
  const logger = pino({ level: 'silent' });
  proxy = new ProxyServer({
    routes: new RouteTable([
      { app: 'echo', routes: [{ path: '/session/echo/', stripPrefix: true }] },
      { app: 'a', routes: [{ host: 'a.test', stripPrefix: false }] },
      { app: 'down', routes: [{ path: '/session/down/', stripPrefix: false }] },
    ]),
    upstreams: new StaticUpstreams({ echo: { host: '127.0.0.1', port: appPort }, a: { host: '127.0.0.1', port: appPort }, down: { host: '127.0.0.1', port: 1 } }),
    logger,
    onRequestDone: (record) => records.push(record),
  });
  port = (await proxy.listen('127.0.0.1', 0)).port;
  https = new HttpsListener({ proxy, contextFor: (name) => contexts.get(name), logger, headersTimeoutMs: 5_000, maxRequestHeaders: 100 });
  tlsPort = (await https.listen('127.0.0.1', 0)).port;
});

after(async () => {
  for (const session of sessions) session.destroy();
  for (const socket of sockets) socket.destroy();
  https.stopAccepting();
  await proxy.close(1_000);
  await https.close();
  app.closeAllConnections();
  await new Promise<void>((r) => app.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

/** A raw connection to the plain listener, with what it read so far. */
function open(): { socket: Socket; read: () => string; closed: Promise<void> } {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  return { socket, read: () => Buffer.concat(chunks).toString('latin1'), closed };
}

/** The one record of `path` (failing on none or on more than one). */
async function onlyRecordOf(path: string): Promise<RequestRecord> {
  await waitFor(`a record of ${path}`, () => records.some((r) => r.path === path));
  await sleep(100);
  const mine = records.filter((r) => r.path === path);
  assert.equal(mine.length, 1, `recorded ${mine.length} times: ${JSON.stringify(mine)}`);
  return mine[0]!;
}

function h2Session(): ClientHttp2Session {
  const session = http2Connect(`https://a.test:${tlsPort}`, { ca, servername: 'a.test', host: '127.0.0.1' } as never);
  session.on('error', () => undefined);
  sessions.push(session);
  return session;
}

test('a chunked HTTP/1.1 upload is recorded with the body bytes the app was sent', async () => {
  const c = open();
  c.socket.write('POST /session/echo/up-chunked HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nabcde\r\n');
  await sleep(20);
  c.socket.write('3\r\nfgh\r\n0\r\n\r\n');
  await c.closed;
  assert.match(c.read(), /^HTTP\/1\.1 200[^]*read 8$/);
  const r = await onlyRecordOf('/session/echo/up-chunked');
  assert.equal(r.bytesIn, 8);
  assert.equal(r.bytesOut, 'read 8'.length);
});

test('a Content-Length upload cut short by its client records what was sent, not what was announced', async () => {
  const c = open();
  c.socket.write('POST /session/echo/up-short HTTP/1.1\r\nHost: a.example\r\nContent-Length: 100\r\n\r\n0123456789');
  await waitFor('the body at the app', () => seen.get('/up-short') === 10);
  c.socket.destroy();
  const r = await onlyRecordOf('/session/echo/up-short');
  assert.equal(r.bytesIn, 10);
});

test('an HTTP/2 upload without Content-Length is recorded with its body bytes', async () => {
  const session = h2Session();
  const req = session.request({ ':method': 'POST', ':path': '/h2-up' });
  const body: Buffer[] = [];
  req.on('data', (c: Buffer) => body.push(c));
  req.write('hello ');
  req.end('world!');
  await new Promise<void>((resolve, reject) => {
    req.on('end', resolve);
    req.on('error', reject);
  });
  assert.equal(Buffer.concat(body).toString(), 'read 12');
  const r = await onlyRecordOf('/h2-up');
  assert.equal(r.bytesIn, 12);
  assert.equal(r.bytesOut, 'read 12'.length);
});

test('a WebSocket is recorded with the bytes that crossed its tunnel each way', async () => {
  const c = open();
  c.socket.write(
    'GET /session/echo/ws HTTP/1.1\r\nHost: a.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  );
  await waitFor('the 101', () => c.read().includes('\r\n\r\n'));
  assert.match(c.read(), /^HTTP\/1\.1 101/);
  const headBytes = c.read().length;
  // A masked text frame "hello" (11 bytes), then a masked close frame (6 bytes): 17 bytes each way (echoed).
  const frame = Buffer.from([0x81, 0x85, 1, 2, 3, 4, 0x68 ^ 1, 0x65 ^ 2, 0x6c ^ 3, 0x6c ^ 4, 0x6f ^ 1]);
  const close = Buffer.from([0x88, 0x80, 1, 2, 3, 4]);
  c.socket.write(frame);
  await waitFor('the echo', () => c.read().length >= headBytes + frame.length);
  c.socket.write(close);
  await waitFor('the close echoed', () => c.read().length >= headBytes + frame.length + close.length);
  c.socket.end();
  await c.closed;
  const r = await onlyRecordOf('/session/echo/ws');
  assert.equal(r.status, 101);
  assert.equal(r.bytesIn, 17);
  assert.equal(r.bytesOut, 17);
});

/** The body bytes of a raw answer (after its blank line). */
const bodyBytes = (answer: string) => Buffer.byteLength(answer, 'latin1') - answer.indexOf('\r\n\r\n') - 4;

test("a WebSocket berth answers itself (the app unreachable: 502; a malformed handshake: 400) records its answer's body bytes, as a plain request's does", async () => {
  const KEY = 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
  for (const [path, extra, status] of [
    ['/session/down/ws', KEY, 502],
    ['/session/echo/ws-bad', '', 400],
  ] as const) {
    const c = open();
    c.socket.write(`GET ${path} HTTP/1.1\r\nHost: a.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`);
    await c.closed;
    assert.match(c.read(), new RegExp(`^HTTP/1\\.1 ${status} `));
    const r = await onlyRecordOf(path);
    assert.equal(r.status, status);
    assert.ok(bodyBytes(c.read()) > 0);
    assert.equal(r.bytesOut, bodyBytes(c.read()), path);
  }
});

test("an app's 103 Early Hints reach an HTTP/1.1 client before the final answer (berth's own front)", async () => {
  const served = proxy.frontRequests;
  const c = open();
  // Kept alive: a plain GET the front serves (Connection: close goes to Node's server).
  c.socket.write('GET /session/echo/hints HTTP/1.1\r\nHost: a.example\r\n\r\n');
  await waitFor('the final answer', () => c.read().endsWith('styled'));
  c.socket.destroy();
  assert.equal(proxy.frontRequests, served + 1, 'served by the front');
  const reply = c.read();
  assert.match(reply, /^HTTP\/1\.1 103 Early Hints\r\n/i);
  assert.match(reply, new RegExp(`\\r\\nlink: ${LINK.replace(/[.*+?^${}()|[\]\\<>/]/g, '\\$&')}\\r\\n`, 'i'));
  assert.match(reply, /\r\n\r\nHTTP\/1\.1 200 OK\r\n[^]*styled$/);
  const r = await onlyRecordOf('/session/echo/hints');
  assert.equal(r.status, 200);
  assert.equal(r.bytesOut, 'styled'.length);
});

test("an app's 103 Early Hints reach an HTTP/1.1 client on the full path (a request with a body)", async () => {
  const c = open();
  c.socket.write('POST /session/echo/full/hints HTTP/1.1\r\nHost: a.example\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi');
  await c.closed;
  const reply = c.read();
  assert.match(reply, /^HTTP\/1\.1 103 Early Hints\r\n/i);
  assert.match(reply, /\r\nlink: <\/style\.css>; rel=preload; as=style\r\n/i);
  assert.match(reply, /\r\n\r\nHTTP\/1\.1 200 OK\r\n[^]*styled$/);
});

test('an HTTP/1.0 client is never sent a 1xx (RFC 9110 §15.2): only the final answer', async () => {
  const c = open();
  c.socket.write('GET /session/echo/ten/hints HTTP/1.0\r\nHost: a.example\r\n\r\n');
  await c.closed;
  assert.match(c.read(), /^HTTP\/1\.1 200 OK\r\n[^]*styled$/);
});

test("an app's 103 Early Hints reach an HTTP/2 client before the final answer", async () => {
  const session = h2Session();
  const req = session.request({ ':method': 'GET', ':path': '/hints' });
  const informational: Array<Record<string, unknown>> = [];
  req.on('headers', (headers) => informational.push(headers));
  let status = 0;
  req.on('response', (headers) => (status = Number(headers[':status'])));
  const body: Buffer[] = [];
  req.on('data', (c: Buffer) => body.push(c));
  await new Promise<void>((resolve, reject) => {
    req.on('end', resolve);
    req.on('error', reject);
  });
  assert.equal(status, 200);
  assert.equal(Buffer.concat(body).toString(), 'styled');
  assert.equal(informational.length, 1, JSON.stringify(informational));
  assert.equal(informational[0]![':status'], 103);
  assert.equal(informational[0]!.link, LINK);
});

test('Expect: 100-continue over HTTP/1.1: the client gets its 100, sends its body, and is answered', async () => {
  const c = open();
  c.socket.write('POST /session/echo/expect HTTP/1.1\r\nHost: a.example\r\nContent-Length: 4\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n');
  await waitFor('the 100 Continue', () => /^HTTP\/1\.1 100 Continue\r\n\r\n/.test(c.read()));
  c.socket.write('abcd');
  await c.closed;
  assert.match(c.read(), /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n[^]*read 4$/);
  assert.equal((await onlyRecordOf('/session/echo/expect')).bytesIn, 4);
});

test('Expect: 100-continue over HTTP/2: the client gets its 100, sends its body, and is answered', async () => {
  const session = h2Session();
  const req = session.request({ ':method': 'POST', ':path': '/h2-expect', expect: '100-continue', 'content-length': '4' });
  const body: Buffer[] = [];
  req.on('data', (c: Buffer) => body.push(c));
  req.once('continue', () => req.end('abcd'));
  await new Promise<void>((resolve, reject) => {
    req.on('end', resolve);
    req.on('error', reject);
  });
  assert.equal(Buffer.concat(body).toString(), 'read 4');
});
