import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { connect as h2Connect } from 'node:http2';
import { Socket, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { pino } from 'pino';
import { WebSocket, WebSocketServer, type ClientOptions } from 'ws';
import { DEAD_PEER_IDLE_MS } from '../../src/net/tcp-keepalive.js';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import { HttpsListener } from '../../src/tls/https-listener.js';
import { makeCa, makeLeaf } from '../support/openssl-certs.js';
import { hasWholeResponse, maskedTextFrame, RawClient, wsHandshake } from '../support/raw-client.js';
import { TestUpstreams } from '../support/test-upstreams.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Both sockets of a WebSocket tunnel get TCP keepalive (a peer gone without a
 * FIN or a reset is found by the kernel's probes, not never), from the moment
 * the handshake is known to be one, cold start included, over TLS too; a plain
 * request's socket gets no system call. Every setKeepAlive is seen through a
 * spy on net.Socket (TLS sockets inherit it), with the socket's ports read at
 * the call: a dead peer is not simulated on loopback.
 */
interface KeepAliveCall {
  localPort: number | undefined;
  remotePort: number | undefined;
  enable: boolean;
  initialDelayMs: number | undefined;
}

const calls: KeepAliveCall[] = [];
const original = Socket.prototype.setKeepAlive;
Socket.prototype.setKeepAlive = function (this: Socket, enable?: boolean, initialDelayMs?: number): Socket {
  calls.push({ localPort: this.localPort, remotePort: this.remotePort, enable: enable === true, initialDelayMs });
  return original.call(this, enable, initialDelayMs);
};

let app: Server;
/** The remote port of each WebSocket the app accepted: the proxy's app-side socket's local port. */
const appPeers: number[] = [];
let upstreams: TestUpstreams;
let proxy: ProxyServer;
let port = 0;
let dir = '';
let ca = '';
let https: HttpsListener;
let tlsPort = 0;

before(async () => {
  app = createServer((req, res) => {
    // An event stream that stays quiet: only the client's leaving ends it.
    if (req.url?.startsWith('/events')) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      return void res.flushHeaders();
    }
    req.resume();
    req.on('end', () => res.end('plain'));
  });
  const wss = new WebSocketServer({ server: app });
  wss.on('connection', (ws, req) => {
    appPeers.push(req.socket.remotePort!);
    ws.on('message', (m) => ws.send(`echo ${String(m)}`));
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const target = { host: '127.0.0.1', port: (app.address() as AddressInfo).port };
  upstreams = new TestUpstreams({ echo: target, held: target });
  upstreams.held.add('held');
  // A ready app's plain requests are served by berth's own front (fast-exchange.ts), as a gateway's are.
  Object.assign(upstreams, { admitReady: (name: string) => (name === 'echo' ? { upstream: upstreams.upstreams.get('echo')!, setCookie: undefined } : undefined) });
  proxy = new ProxyServer({
    routes: new RouteTable(['echo', 'held'].map((name) => ({ app: name, routes: [{ path: `/${name}/`, stripPrefix: true }] }))),
    upstreams,
    logger: pino({ level: 'silent' }),
  });
  port = (await proxy.listen('127.0.0.1', 0)).port;
  dir = await mkdtemp(join(tmpdir(), 'berth-keepalive-'));
  const authority = await makeCa(dir);
  ca = authority.pem;
  const leaf = await makeLeaf(dir, authority, 'localhost', ['localhost']);
  const context = createSecureContext({ cert: await readFile(leaf.cert), key: await readFile(leaf.key) });
  https = new HttpsListener({ proxy, contextFor: () => context, logger: pino({ level: 'silent' }), headersTimeoutMs: 5_000, maxRequestHeaders: 100 });
  tlsPort = (await https.listen('127.0.0.1', 0)).port;
});

after(async () => {
  Socket.prototype.setKeepAlive = original;
  https.stopAccepting();
  await proxy.close(1_000);
  await https.close();
  app.closeAllConnections();
  await new Promise<void>((r) => app.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

/** The keepalive calls made on the proxy's socket whose peer is at `peerPort`. */
const onClientSide = (peerPort: number) => calls.filter((c) => c.remotePort === peerPort && c.localPort !== peerPort);
/** The keepalive calls made on the proxy's socket at `localPort` (its app side). */
const onAppSide = (localPort: number) => calls.filter((c) => c.localPort === localPort);
const probing = (c: KeepAliveCall) => c.enable && c.initialDelayMs === DEAD_PEER_IDLE_MS;

/** Opens a WebSocket, checks it echoes, and returns it open with the local port of its socket. */
async function openEchoing(url: string, options: ClientOptions = {}): Promise<{ ws: WebSocket; localPort: number }> {
  const ws = new WebSocket(url, options);
  const localPort = await new Promise<number>((resolve, reject) => {
    ws.once('upgrade', (res) => resolve(res.socket.localPort!));
    ws.once('error', reject);
  });
  const answer = await new Promise<string>((resolve, reject) => {
    const send = () => ws.send('hi');
    if (ws.readyState === WebSocket.OPEN) send();
    else ws.once('open', send);
    ws.once('message', (m) => resolve(String(m)));
    ws.once('error', reject);
  });
  assert.equal(answer, 'echo hi');
  return { ws, localPort };
}

test('both sockets of a WebSocket tunnel probe their peer, and a plain request costs no call', async () => {
  const plain = await RawClient.open(port);
  try {
    plain.write('GET /echo/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    assert.match(await plain.until(hasWholeResponse), /^HTTP\/1\.1 200 /);
    assert.deepEqual(calls, [], 'a plain request, kept alive, set no keepalive');
  } finally {
    plain.destroy();
  }
  const before = appPeers.length;
  const { ws, localPort } = await openEchoing(`ws://127.0.0.1:${port}/echo/ws`);
  try {
    assert.ok(onClientSide(localPort).some(probing), `the client side probes: ${JSON.stringify(calls)}`);
    const appSide = appPeers[before]!;
    assert.ok(onAppSide(appSide).some(probing), `the app side probes: ${JSON.stringify(calls)}`);
  } finally {
    ws.terminate();
  }
});

test('a WebSocket held while its app cold-starts probes its client from the start', async () => {
  const client = await RawClient.open(port);
  try {
    client.write(wsHandshake('/held/ws'));
    await waitFor('the handshake to be held', () => upstreams.waitingCount === 1, { timeoutMs: 10_000 });
    assert.ok(onClientSide(client.socket.localPort!).some(probing), `the held client probes: ${JSON.stringify(calls)}`);
    upstreams.settle();
    assert.match(await client.until((text) => text.includes('\r\n\r\n'), 10_000), /^HTTP\/1\.1 101 /);
    client.clear();
    client.write(maskedTextFrame('hi'));
    assert.match(await client.until((text) => text.includes('echo hi'), 10_000), /echo hi/);
  } finally {
    client.destroy();
  }
});

test('a WebSocket through the TLS listener probes its client', async () => {
  const before = appPeers.length;
  const { ws, localPort } = await openEchoing(`wss://127.0.0.1:${tlsPort}/echo/ws`, { ca, servername: 'localhost', headers: { host: 'localhost' } } as ClientOptions);
  try {
    assert.ok(onClientSide(localPort).some(probing), `the TLS client side probes: ${JSON.stringify(calls)}`);
    assert.ok(onAppSide(appPeers[before]!).some(probing), `the app side probes: ${JSON.stringify(calls)}`);
  } finally {
    ws.terminate();
  }
});

test('a quiet event stream probes its client, through the front and through Node\'s server', async () => {
  // A GET goes through berth's own front; a request with a body through Node's server (forward-http).
  for (const request of ['GET /echo/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 'POST /echo/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\nhi']) {
    const client = await RawClient.open(port);
    const served = proxy.frontRequests;
    try {
      client.write(request);
      assert.match(await client.until((text) => text.includes('\r\n\r\n'), 10_000), /^HTTP\/1\.1 200 [^]*text\/event-stream/i);
      await waitFor(`the stream's client to probe (${request.slice(0, 4)})`, () => onClientSide(client.socket.localPort!).some(probing), { timeoutMs: 10_000 });
      assert.equal(proxy.frontRequests - served, request.startsWith('GET') ? 1 : 0, 'served by the path meant');
    } finally {
      client.destroy();
    }
  }
  await waitFor('the streams to end with their clients', () => upstreams.beganCount === upstreams.endedCount, { timeoutMs: 10_000 });
});

test('an HTTP/2 connection probes its client: a session with a quiet stream open is never idle-closed', async () => {
  const session = h2Connect(`https://127.0.0.1:${tlsPort}`, { ca, servername: 'localhost' });
  try {
    session.on('error', () => undefined);
    const stream = session.request({ ':path': '/echo/events', ':authority': 'localhost' });
    stream.on('error', () => undefined);
    const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
      stream.once('response', resolve);
      stream.once('error', reject);
    });
    assert.equal(headers[':status'], 200);
    assert.equal(headers['content-type'], 'text/event-stream');
    const localPort = session.socket.localPort!;
    assert.ok(onClientSide(localPort).some(probing), `the HTTP/2 client side probes: ${JSON.stringify(calls)}`);
    stream.close();
  } finally {
    session.destroy();
  }
});
