// A route kept to HTTPS (tls.redirect, or its own redirectHttps) answers every plain request
// with 308 to its https:// URL. A plain WebSocket handshake to it was tunnelled to the app over
// plain HTTP instead: the upgrade path never asked the edge, so ws:// went around the redirect.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { pino } from 'pino';
import { WebSocketServer } from 'ws';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import { StaticUpstreams } from '../../src/proxy/static-upstreams.js';
import type { RequestRecord } from '../../src/store/store.js';
import { httpsRedirect } from '../../src/tls/edge-policy.js';
import { HttpsListener } from '../../src/tls/https-listener.js';
import { makeCa, makeLeaf } from '../support/openssl-certs.js';
import { RawClient } from '../support/raw-client.js';
import { waitFor } from '../support/wait-for.js';

let backend: Server;
let wss: WebSocketServer;
let proxy: ProxyServer;
let port = 0;
/** WebSockets the app accepted, and plain requests it answered. */
let opened = 0;
let served = 0;
const records: RequestRecord[] = [];

before(async () => {
  backend = createServer((_req, res) => {
    served++;
    res.writeHead(200, { 'content-length': 2 });
    res.end('ok');
  });
  wss = new WebSocketServer({ server: backend });
  wss.on('connection', () => opened++);
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  const app = { host: '127.0.0.1', port: (backend.address() as AddressInfo).port };
  proxy = new ProxyServer({
    routes: new RouteTable([
      { app: 'kept', routes: [{ path: '/kept/', stripPrefix: false, redirectHttps: true }] },
      { app: 'open', routes: [{ path: '/open/', stripPrefix: false }] },
    ]),
    upstreams: new StaticUpstreams({ kept: app, open: app }),
    logger: pino({ level: 'silent' }),
    onRequestDone: (r) => records.push(r),
  });
  // The gateway's own decision (tls.redirect off, so each route's redirectHttps decides), TLS on 8443.
  proxy.setEdge({ challenge: () => undefined, redirect: (match, target) => httpsRedirect(match, target, false, 8443), hsts: () => undefined });
  port = (await proxy.listen('127.0.0.1', 0)).port;
});

/** The proxy's TLS listener (a proxy serves one), made by the first test that needs it. */
let secure: Promise<{ https: HttpsListener; tlsPort: number; ca: string; dir: string }> | undefined;
function tls(): Promise<{ tlsPort: number; ca: string }> {
  secure ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-upgrade-redirect-'));
    const authority = await makeCa(dir);
    const leaf = await makeLeaf(dir, authority, 'a.example', ['a.example']);
    const context = createSecureContext({ cert: await readFile(leaf.cert), key: await readFile(leaf.key) });
    const https = new HttpsListener({ proxy, contextFor: () => context, logger: pino({ level: 'silent' }), headersTimeoutMs: 2_000, maxRequestHeaders: 100 });
    const tlsPort = (await https.listen('127.0.0.1', 0)).port;
    return { https, tlsPort, ca: authority.pem, dir };
  })();
  return secure;
}

after(async () => {
  if (secure !== undefined) {
    const { https, dir } = await secure;
    https.stopAccepting();
    await https.close();
    await rm(dir, { recursive: true, force: true });
  }
  await proxy.close(1000);
  wss.close();
  await new Promise<void>((r) => backend.close(() => r()));
});

function handshake(path: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: a.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
}

/** The head of the answer to `text` sent on a fresh connection. */
async function answerHead(text: string): Promise<string> {
  const client = await RawClient.open(port);
  try {
    client.write(text);
    const answer = await client.until((text) => text.includes('\r\n\r\n'));
    return answer.split('\r\n\r\n')[0]!;
  } finally {
    client.destroy();
  }
}

test('a plain WebSocket handshake to a route kept to HTTPS gets the 308 a plain GET gets, and the app opens no WebSocket', async () => {
  const get = await answerHead('GET /kept/chat?room=1 HTTP/1.1\r\nHost: a.example\r\n\r\n');
  assert.match(get, /^HTTP\/1\.1 308 /);
  assert.match(get, /\r\nlocation: https:\/\/a\.example:8443\/kept\/chat\?room=1(\r\n|$)/i);
  const before = records.length;
  const ws = await answerHead(handshake('/kept/chat?room=1'));
  assert.match(ws, /^HTTP\/1\.1 308 /, ws);
  assert.match(ws, /\r\nlocation: https:\/\/a\.example:8443\/kept\/chat\?room=1(\r\n|$)/i);
  assert.equal(opened, 0, 'no WebSocket reached the app over plain HTTP');
  assert.equal(served, 0);
  // Recorded under its app as the plain GET's 308 is.
  await waitFor('the 308 is recorded', () => records.length > before);
  assert.deepEqual(
    records.slice(before).map((r) => [r.app, r.status]),
    [['kept', 308]],
  );
});

test('a plain WebSocket handshake to a route not kept to HTTPS is still tunnelled', async () => {
  const was = opened;
  const ws = await answerHead(handshake('/open/chat'));
  assert.match(ws, /^HTTP\/1\.1 101 /, ws);
  await waitFor('the app accepted it', () => opened === was + 1);
});

test('over TLS the same handshake is tunnelled: only a plain one is redirected', async () => {
  const { tlsPort, ca } = await tls();
  const was = opened;
  const client = await RawClient.openTls(tlsPort, { ca, servername: 'a.example' });
  try {
    client.write(handshake('/kept/chat'));
    const head = (await client.until((text) => text.includes('\r\n\r\n'))).split('\r\n\r\n')[0]!;
    assert.match(head, /^HTTP\/1\.1 101 /, head);
  } finally {
    client.destroy();
  }
  await waitFor('the app accepted it', () => opened === was + 1);
});

// An upgrade berth does not tunnel (h2c, TLS/1.0...) is served as the plain request it also is, by a fresh
// parser: that parser was the plain listener's, whatever listener the request came in on. So an HTTPS request
// with `Upgrade: h2c` was taken for a plain one, and a route kept to HTTPS sent it a 308 to its own URL (a
// loop), with no Strict-Transport-Security, and with the ACME challenges plain HTTP alone answers.
test('over TLS, a request with an upgrade berth does not tunnel (h2c) is served as an HTTPS request, not redirected to itself', async () => {
  const { tlsPort, ca } = await tls();
  const was = served;
  const client = await RawClient.openTls(tlsPort, { ca, servername: 'a.example' });
  try {
    client.write('GET /kept/page HTTP/1.1\r\nHost: a.example\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n');
    const head = (await client.until((text) => text.includes('\r\n\r\n'))).split('\r\n\r\n')[0]!;
    assert.match(head, /^HTTP\/1\.1 200 /, head);
    // The connection serves on, over TLS still.
    client.write('GET /kept/next HTTP/1.1\r\nHost: a.example\r\n\r\n');
    const both = await client.until((text) => (text.match(/HTTP\/1\.1 \d{3} /g) ?? []).length === 2);
    assert.deepEqual([...both.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]), ['200', '200'], both);
  } finally {
    client.destroy();
  }
  assert.equal(served, was + 2, 'the app served both');
});
