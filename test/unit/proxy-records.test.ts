import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import { StaticUpstreams } from '../../src/proxy/static-upstreams.js';
import type { RequestRecord } from '../../src/store/store.js';
import { waitFor } from '../support/wait-for.js';

// Every way a request can go through the proxy is told to the history (and so to the metrics and
// usage, which fold the same records) exactly once, with its app, status and bytes.

let app: Server;
let proxy: ProxyServer;
let port = 0;
const records: RequestRecord[] = [];
const BODY = 'hello from the app';

before(async () => {
  app = createServer((req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      const body = req.url?.startsWith('/chunked') ? `${BODY}:${bytes}` : BODY;
      if (req.url?.startsWith('/chunked')) res.writeHead(200, { 'content-type': 'text/plain' });
      else res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const appPort = (app.address() as AddressInfo).port;
  proxy = new ProxyServer({
    routes: new RouteTable([
      { app: 'echo', routes: [{ path: '/session/echo/', stripPrefix: true }] },
      { app: 'down', routes: [{ path: '/session/down/', stripPrefix: false }] },
    ]),
    upstreams: new StaticUpstreams({ echo: { host: '127.0.0.1', port: appPort }, down: { host: '127.0.0.1', port: 1 } }),
    logger: pino({ level: 'silent' }),
    onRequestDone: (record) => records.push(record),
  });
  port = (await proxy.listen('127.0.0.1', 0)).port;
});

after(async () => {
  await proxy.close(1000);
  await new Promise<void>((r) => app.close(() => r()));
});

/** Sends raw bytes and reads until the proxy closes the connection (bounded). */
function raw(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within 10 s; got ${Buffer.concat(chunks).toString('latin1').slice(0, 200)}`));
    }, 10_000);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.write(text);
  });
}

/** The one record of `path` (failing on none or on more than one). */
async function onlyRecordOf(path: string): Promise<RequestRecord> {
  await waitFor(`a record of ${path}`, () => records.some((r) => r.path === path));
  // A second record of the same exchange would come at once (the same callbacks): a short look suffices.
  await sleep(100);
  const mine = records.filter((r) => r.path === path);
  assert.equal(mine.length, 1, `recorded ${mine.length} times: ${JSON.stringify(mine)}`);
  return mine[0]!;
}

/** Asserts no record of `path` came once the proxy answered (the answer is on the wire before any record). */
async function noRecordOf(path: string): Promise<void> {
  await sleep(100);
  assert.deepEqual(records.filter((r) => r.path === path), []);
}

test('a plain GET (the fast path) is one record: status, body bytes, app, instance', async () => {
  const reply = await raw('GET /session/echo/fast HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n');
  assert.match(reply, /^HTTP\/1\.1 200/);
  const r = await onlyRecordOf('/session/echo/fast');
  assert.equal(r.app, 'echo');
  assert.equal(r.status, 200);
  assert.equal(r.bytesOut, BODY.length);
  assert.equal(r.method, 'GET');
  assert.equal(r.waited, false);
});

test('a POST with a body (the full path) is one record with bytes in and out', async () => {
  const reply = await raw('POST /session/echo/chunked-post HTTP/1.1\r\nHost: a.example\r\nContent-Length: 5\r\nConnection: close\r\n\r\nabcde');
  assert.match(reply, /^HTTP\/1\.1 200/);
  const r = await onlyRecordOf('/session/echo/chunked-post');
  assert.equal(r.status, 200);
  assert.equal(r.bytesIn, 5);
  assert.equal(r.bytesOut, `${BODY}:5`.length);
});

test('an HTTP/1.0 request and a HEAD are one record each (a HEAD sends no body bytes)', async () => {
  assert.match(await raw('GET /session/echo/ten HTTP/1.0\r\nHost: a.example\r\n\r\n'), /^HTTP\/1\.1 200/);
  assert.equal((await onlyRecordOf('/session/echo/ten')).status, 200);
  assert.match(await raw('HEAD /session/echo/head HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200/);
  const head = await onlyRecordOf('/session/echo/head');
  assert.equal(head.method, 'HEAD');
  assert.equal(head.bytesOut, 0);
});

test('pipelined requests are one record each', async () => {
  const reply = await raw(
    'GET /session/echo/pipe1 HTTP/1.1\r\nHost: a.example\r\n\r\n' +
      'GET /session/echo/pipe2 HTTP/1.1\r\nHost: a.example\r\n\r\n' +
      'GET /session/echo/pipe3 HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n',
  );
  assert.equal(reply.match(/HTTP\/1\.1 200/g)?.length, 3, reply);
  for (const path of ['/session/echo/pipe1', '/session/echo/pipe2', '/session/echo/pipe3']) assert.equal((await onlyRecordOf(path)).status, 200);
});

test('an app that cannot be reached is one 502 record', async () => {
  assert.match(await raw('GET /session/down/x HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 502/);
  const r = await onlyRecordOf('/session/down/x');
  assert.equal(r.app, 'down');
  assert.equal(r.status, 502);
  assert.ok(r.bytesOut > 0, 'the error page body is counted');
});

test("the 308 to a stripped route's bare prefix is one record of the app, as Traefik logs its redirects", async () => {
  const reply = await raw('GET /session/echo HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n');
  assert.match(reply, /^HTTP\/1\.1 308/);
  const r = await onlyRecordOf('/session/echo');
  assert.equal(r.app, 'echo');
  assert.equal(r.status, 308);
  assert.equal(r.bytesOut, 0);
  assert.equal(r.instance, undefined);
});

test("the HTTPS redirect (tls.redirect) is one 308 record of the app; the ACME challenge path names none", async () => {
  proxy.setEdge({ challenge: () => undefined, redirect: (_match, target) => `https://a.example${target}`, hsts: () => undefined });
  try {
    const reply = await raw('GET /session/echo/tls HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 308/);
    const r = await onlyRecordOf('/session/echo/tls');
    assert.equal(r.app, 'echo');
    assert.equal(r.status, 308);
    assert.match(await raw('GET /.well-known/acme-challenge/none HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 404/);
    await noRecordOf('/.well-known/acme-challenge/none');
  } finally {
    proxy.setEdge(undefined);
  }
});

test('a WebSocket handshake refused as malformed (400) is one record of its app', async () => {
  const reply = await raw('GET /session/echo/ws HTTP/1.1\r\nHost: a.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n');
  assert.match(reply, /^HTTP\/1\.1 400/);
  const r = await onlyRecordOf('/session/echo/ws');
  assert.equal(r.app, 'echo');
  assert.equal(r.status, 400);
});

test('no route (404) and berth\'s own endpoints name no app: the per-app history keeps none of them', async () => {
  assert.match(await raw('GET /nowhere HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 404/);
  await noRecordOf('/nowhere');
  await raw('GET /_berth/health HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n');
  await noRecordOf('/_berth/health');
});
