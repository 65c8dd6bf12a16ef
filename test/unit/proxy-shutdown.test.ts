import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, request } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { pino } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import { RawClient, wsHandshake } from '../support/raw-client.js';
import { TestUpstreams } from '../support/test-upstreams.js';
import { waitFor } from '../support/wait-for.js';

const CLOSE_1001_UNMASKED = Buffer.from([0x88, 0x02, 0x03, 0xe9]);
const SWITCHING = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n';

function proxyFor(upstreams: TestUpstreams): ProxyServer {
  const apps = [...upstreams.upstreams.keys()];
  return new ProxyServer({
    routes: new RouteTable(apps.map((app) => ({ app, routes: [{ path: `/${app}/`, stripPrefix: true }] }))),
    upstreams,
    logger: pino({ level: 'silent' }),
  });
}

/**
 * A raw app that answers any handshake with 101, then lets the test drive the
 * socket; it keeps what it received, and like a real endpoint it may go on
 * writing after the proxy ended its side.
 */
async function rawWebSocketApp(onOpen: (socket: Socket) => void): Promise<{ server: NetServer; port: number; received: () => Buffer; dispose: () => Promise<void> }> {
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server = createNetServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    let open = false;
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (open || !Buffer.concat(chunks).includes('\r\n\r\n')) return;
      open = true;
      socket.write(SWITCHING);
      onOpen(socket);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    received: () => Buffer.concat(chunks),
    dispose: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await work;
  return { value, ms: performance.now() - start };
}

test('close() lets an HTTP request finish, then sends an open WebSocket close code 1001', async () => {
  const backend = createHttpServer((req, res) => setTimeout(() => res.end('slow done'), 300));
  const wss = new WebSocketServer({ server: backend });
  wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data)));
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  const upstreams = new TestUpstreams({ echo: { host: '127.0.0.1', port: (backend.address() as AddressInfo).port } });
  const proxy = proxyFor(upstreams);
  const port = (await proxy.listen('127.0.0.1', 0)).port;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/echo/ws`);
  try {
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const wsClosed = new Promise<{ code: number; atMs: number }>((resolve) => ws.once('close', (code) => resolve({ code, atMs: performance.now() })));
    const slow = new Promise<{ body: string; atMs: number }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/echo/slow', agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += String(c)));
        res.on('end', () => resolve({ body, atMs: performance.now() }));
      });
      req.on('error', reject);
      req.end();
    });
    await waitFor('the slow request to be in flight', () => upstreams.beganCount === 2);
    const { ms } = await timed(proxy.close(5_000));
    const [closed, http] = await Promise.all([wsClosed, slow]);
    assert.equal(http.body, 'slow done');
    assert.equal(closed.code, 1001);
    assert.ok(closed.atMs >= http.atMs, 'the WebSocket is closed only after HTTP requests drained');
    assert.ok(ms < 3_000, `close took ${ms} ms`);
    assert.equal(upstreams.beganCount, upstreams.endedCount);
    assert.equal(upstreams.inFlight, 0);
  } finally {
    ws.terminate();
    await proxy.close(0).catch(() => undefined);
    wss.close();
    await new Promise<void>((r) => backend.close(() => r()));
  }
});

test('close() finishes in bounded time against a client that never answers, and both sides get a 1001 close frame', async () => {
  const app = await rawWebSocketApp(() => undefined);
  const upstreams = new TestUpstreams({ raw: { host: '127.0.0.1', port: app.port } });
  const proxy = proxyFor(upstreams);
  const port = (await proxy.listen('127.0.0.1', 0)).port;
  // Reads, but neither answers the close frame nor hangs up, even once the proxy ended its side.
  const client = await RawClient.open(port, { halfOpen: true });
  try {
    client.write(wsHandshake('/raw/ws'));
    await client.until((t) => t.includes('\r\n\r\n'));
    const { ms } = await timed(proxy.close(200));
    assert.ok(ms < 3_000, `close took ${ms} ms`);
    await client.untilClosed(3_000);
    const afterHead = client.bytes.subarray(client.text.indexOf('\r\n\r\n') + 4);
    assert.deepEqual([...afterHead], [...CLOSE_1001_UNMASKED]);
    // The app got a masked close frame (RFC 6455 §5.3: client-to-server frames are masked) carrying 1001.
    const toApp = app.received().subarray(app.received().indexOf('\r\n\r\n') + 4);
    assert.equal(toApp.length, 8);
    assert.deepEqual([toApp[0], toApp[1]], [0x88, 0x82]);
    assert.deepEqual([toApp[6]! ^ toApp[2]!, toApp[7]! ^ toApp[3]!], [0x03, 0xe9]);
    assert.equal(upstreams.beganCount, upstreams.endedCount);
  } finally {
    client.destroy();
    await app.dispose();
  }
});

test('the close frame waits for the end of a frame the app is half-way through', async () => {
  const frame = Buffer.concat([Buffer.from([0x82, 126, 0x01, 0x00]), Buffer.alloc(256, 0x5a)]);
  let appSocket: Socket | undefined;
  const app = await rawWebSocketApp((socket) => {
    appSocket = socket;
    socket.write(frame.subarray(0, 100));
  });
  const upstreams = new TestUpstreams({ raw: { host: '127.0.0.1', port: app.port } });
  const proxy = proxyFor(upstreams);
  const port = (await proxy.listen('127.0.0.1', 0)).port;
  const client = await RawClient.open(port);
  try {
    client.write(wsHandshake('/raw/ws'));
    const headLength = () => client.text.indexOf('\r\n\r\n') + 4;
    await client.until((t) => t.includes('\r\n\r\n') && client.bytes.length - headLength() >= 100);
    const closing = proxy.close(0);
    await new Promise((r) => setTimeout(r, 100));
    // Nothing was inserted in the middle of the frame.
    assert.equal(client.bytes.length - headLength(), 100);
    appSocket!.write(frame.subarray(100));
    await closing;
    await client.untilClosed(3_000);
    assert.deepEqual(client.bytes.subarray(headLength()), Buffer.concat([frame, CLOSE_1001_UNMASKED]));
  } finally {
    client.destroy();
    await app.dispose();
  }
});

test('close() ends a handshake held for a cold start that never completes, in bounded time', async () => {
  const upstreams = new TestUpstreams({ held: { host: '127.0.0.1', port: 1 } });
  upstreams.held.add('held');
  const proxy = proxyFor(upstreams);
  const port = (await proxy.listen('127.0.0.1', 0)).port;
  const client = await RawClient.open(port);
  try {
    client.write(wsHandshake('/held/ws'));
    await waitFor('the handshake to be held', () => upstreams.waitingCount === 1);
    const { ms } = await timed(proxy.close(5_000));
    assert.ok(ms < 2_000, `close took ${ms} ms`);
    await client.untilClosed(2_000);
    // The start finishing later opens nothing and still balances the accounting.
    upstreams.settle();
    await waitFor('began and ended to balance', () => upstreams.beganCount === upstreams.endedCount);
    assert.equal(upstreams.inFlight, 0);
  } finally {
    client.destroy();
  }
});
