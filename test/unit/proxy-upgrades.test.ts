import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { pino } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import { hasWholeResponse, maskedTextFrame, RawClient, wsHandshake } from '../support/raw-client.js';
import { TestUpstreams } from '../support/test-upstreams.js';
import { waitFor } from '../support/wait-for.js';

/** What the plain HTTP backend saw of each request. */
interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  bytes: number;
}

let backend: Server;
let wss: WebSocketServer;
/** WebSockets the echo app accepted so far. */
let wsOpened = 0;
/** Raw apps that answer a handshake with a fixed status, and keep every byte they were sent. */
const refusers = new Map<number, { server: NetServer; received: Buffer[]; sockets: Set<Socket> }>();
let upstreams: TestUpstreams;
let proxy: ProxyServer;
let port = 0;

const REFUSALS = [400, 426, 200];

before(async () => {
  backend = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, bytes: Buffer.concat(chunks).length };
      const body = JSON.stringify(seen);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  wss = new WebSocketServer({ server: backend });
  wss.on('connection', (ws) => {
    wsOpened++;
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  const targets: Record<string, { host: string; port: number }> = { echo: { host: '127.0.0.1', port: (backend.address() as AddressInfo).port } };
  targets.held = targets.echo!;
  for (const status of REFUSALS) {
    const received: Buffer[] = [];
    const sockets = new Set<Socket>();
    const server = createNetServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      let answered = false;
      socket.on('data', (chunk: Buffer) => {
        received.push(chunk);
        if (answered || !Buffer.concat(received).includes('\r\n\r\n')) return;
        answered = true;
        // The connection is left open: anything the proxy sent on it later would be seen.
        socket.write(`HTTP/1.1 ${status} Refused\r\ncontent-type: text/plain\r\ncontent-length: 5\r\nx-app: refused\r\nsec-websocket-version: 13\r\n\r\nnope!`);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    refusers.set(status, { server, received, sockets });
    targets[`r${status}`] = { host: '127.0.0.1', port: (server.address() as AddressInfo).port };
  }
  upstreams = new TestUpstreams(targets);
  upstreams.held.add('held');
  proxy = new ProxyServer({
    routes: new RouteTable(Object.keys(targets).map((app) => ({ app, routes: [{ path: `/${app}/`, stripPrefix: true }] }))),
    upstreams,
    logger: pino({ level: 'silent' }),
  });
  port = (await proxy.listen('127.0.0.1', 0)).port;
});

after(async () => {
  await proxy.close(1000);
  wss.close();
  await new Promise<void>((r) => backend.close(() => r()));
  for (const { server, sockets } of refusers.values()) {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

/** The JSON body of the first whole response in `text`. */
function bodyOf(text: string): Seen {
  return JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Seen;
}

/** After every case: nothing left counted, and the proxy still serves HTTP and WebSocket. */
async function assertAliveAndBalanced(): Promise<void> {
  await waitFor('began and ended to balance', () => upstreams.beganCount === upstreams.endedCount && upstreams.inFlight === 0 && upstreams.waitingCount === 0, { timeoutMs: 5_000 });
  const client = await RawClient.open(port);
  try {
    client.write('GET /echo/alive HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const text = await client.until(hasWholeResponse);
    assert.match(text, /^HTTP\/1\.1 200 /);
  } finally {
    client.destroy();
  }
  const ws = new WebSocket(`ws://127.0.0.1:${port}/echo/ws`);
  try {
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const echoed = new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
    ws.send('still here');
    assert.equal(await echoed, 'still here');
  } finally {
    ws.terminate();
  }
  await waitFor('the check itself to balance', () => upstreams.beganCount === upstreams.endedCount && upstreams.inFlight === 0);
}

test('an h2c upgrade with a POST body is served as plain HTTP, and the connection stays usable', async () => {
  const client = await RawClient.open(port);
  try {
    client.write('POST /echo/h2c HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\nContent-Length: 11\r\n\r\nhello world');
    const first = await client.until(hasWholeResponse);
    assert.match(first, /^HTTP\/1\.1 200 /);
    const seen = bodyOf(first);
    assert.equal(seen.method, 'POST');
    assert.equal(seen.url, '/h2c');
    assert.equal(seen.bytes, 11);
    assert.equal(seen.headers.upgrade, undefined);
    assert.equal(seen.headers['http2-settings'], undefined);
    assert.doesNotMatch(String(seen.headers.connection ?? ''), /upgrade/i);
    // Keep-alive: the next request on the same connection is served too.
    client.clear();
    client.write('GET /echo/second HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const second = await client.until(hasWholeResponse);
    assert.equal(bodyOf(second).url, '/second');
  } finally {
    client.destroy();
  }
  await assertAliveAndBalanced();
});

test('other upgrade tokens (TLS/1.0, foo) are plain HTTP too, and never tunnelled', async () => {
  for (const token of ['TLS/1.0', 'foo', 'websocket2']) {
    const client = await RawClient.open(port);
    try {
      client.write(`GET /echo/${encodeURIComponent(token)} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: upgrade\r\nUpgrade: ${token}\r\n\r\n`);
      const text = await client.until(hasWholeResponse);
      assert.match(text, /^HTTP\/1\.1 200 /, token);
      assert.equal(bodyOf(text).headers.upgrade, undefined, token);
    } finally {
      client.destroy();
    }
  }
  await assertAliveAndBalanced();
});

for (const status of REFUSALS) {
  test(`an app answering a handshake with ${status} is relayed as is, no tunnel opens, and later bytes never reach the app`, async () => {
    const refuser = refusers.get(status)!;
    refuser.received.length = 0;
    const client = await RawClient.open(port);
    try {
      // Bytes right behind the head land in the proxy's `head` buffer; later ones come on their own.
      client.write(wsHandshake(`/r${status}/ws`) + 'EARLY-BYTES');
      const text = await client.until(hasWholeResponse);
      client.write(maskedTextFrame('LATE-BYTES'));
      assert.match(text, new RegExp(`^HTTP/1\\.1 ${status} Refused\\r\\n`));
      assert.match(text, /\r\nx-app: refused\r\n/);
      assert.match(text, /\r\nconnection: close\r\n/);
      assert.ok(text.endsWith('\r\n\r\nnope!'));
      await client.untilClosed();
      await new Promise((r) => setTimeout(r, 100));
      const seen = Buffer.concat(refuser.received).toString('latin1');
      assert.match(seen, /^GET \/ws HTTP\/1\.1\r\n/);
      assert.doesNotMatch(seen, /EARLY-BYTES/);
      assert.ok(!Buffer.concat(refuser.received).includes(maskedTextFrame('LATE-BYTES')));
    } finally {
      client.destroy();
    }
    await assertAliveAndBalanced();
  });
}

const malformed: { name: string; head: string }[] = [
  { name: 'a POST', head: wsHandshake('/held/ws').replace('GET', 'POST') },
  { name: 'HTTP/1.0', head: wsHandshake('/held/ws').replace('HTTP/1.1', 'HTTP/1.0') },
  { name: 'no key', head: wsHandshake('/held/ws').replace(/Sec-WebSocket-Key: .*\r\n/, '') },
  { name: 'a key of 15 bytes', head: wsHandshake('/held/ws').replace('dGhlIHNhbXBsZSBub25jZQ==', Buffer.alloc(15, 7).toString('base64')) },
  { name: 'version 8', head: wsHandshake('/held/ws').replace('Version: 13', 'Version: 8') },
  { name: 'a body', head: wsHandshake('/held/ws', 'Content-Length: 4\r\n') + 'abcd' },
];

for (const c of malformed) {
  test(`a malformed handshake (${c.name}) gets 400 without waking the stopped app`, async () => {
    const admitsBefore = upstreams.admitCount;
    const beganBefore = upstreams.beganCount;
    const client = await RawClient.open(port);
    try {
      client.write(c.head);
      const text = await client.until(hasWholeResponse);
      assert.match(text, /^HTTP\/1\.1 400 /);
      assert.match(text, /bad_request/);
    } finally {
      client.destroy();
    }
    assert.equal(upstreams.admitCount, admitsBefore, 'the app was not asked for');
    assert.equal(upstreams.beganCount, beganBefore);
    await assertAliveAndBalanced();
  });
}

test('a client resetting right after its handshake, before the app connection is made', async () => {
  for (let i = 0; i < 5; i++) {
    const client = await RawClient.open(port);
    client.write(wsHandshake('/echo/ws'));
    client.reset();
  }
  await assertAliveAndBalanced();
});

test('a client resetting while its handshake is held for a cold start (then the start succeeds)', async () => {
  const client = await RawClient.open(port);
  client.write(wsHandshake('/held/ws'));
  await waitFor('the handshake to be held', () => upstreams.waitingCount === 1);
  client.reset();
  await new Promise((r) => setTimeout(r, 50));
  upstreams.settle();
  await assertAliveAndBalanced();
});

test('a client resetting while its handshake is held for a cold start (then the start fails)', async () => {
  const client = await RawClient.open(port);
  client.write(wsHandshake('/held/ws'));
  await waitFor('the handshake to be held', () => upstreams.waitingCount === 1);
  client.reset();
  await new Promise((r) => setTimeout(r, 50));
  upstreams.settle(new Error('start failed'));
  await assertAliveAndBalanced();
});

test('a client leaving with a FIN while its handshake is held for a cold start: cut at once, and no tunnel opens once the app is ready', async () => {
  const opened = wsOpened;
  const client = await RawClient.open(port, { halfOpen: true });
  try {
    client.write(wsHandshake('/held/ws'));
    await waitFor('the handshake to be held', () => upstreams.waitingCount === 1);
    // A closed browser tab: a FIN, and nothing more (no reset, the gateway writes nothing it could fail on).
    client.socket.end();
    await waitFor('the gateway to close the held connection', () => client.closed);
    upstreams.settle();
    await waitFor('began and ended to balance', () => upstreams.beganCount === upstreams.endedCount && upstreams.inFlight === 0, { timeoutMs: 5_000 });
    assert.equal(client.text, '', 'nothing was answered to a client that left');
    assert.equal(wsOpened, opened, 'the app never saw a WebSocket for nobody');
  } finally {
    client.destroy();
  }
  await assertAliveAndBalanced();
});

test('a held handshake is forwarded once the app is ready', async () => {
  const client = await RawClient.open(port);
  try {
    client.write(wsHandshake('/held/ws'));
    await waitFor('the handshake to be held', () => upstreams.waitingCount === 1);
    upstreams.settle();
    const text = await client.until((t) => t.includes('\r\n\r\n'));
    assert.match(text, /^HTTP\/1\.1 101 /);
  } finally {
    client.reset();
  }
  await assertAliveAndBalanced();
});

test('a client resetting after the 101, and in the middle of a frame', async () => {
  for (const partial of [false, true]) {
    const client = await RawClient.open(port);
    client.write(wsHandshake('/echo/ws'));
    await client.until((t) => t.includes('\r\n\r\n'));
    assert.match(client.text, /^HTTP\/1\.1 101 /);
    if (partial) client.write(maskedTextFrame('half a frame').subarray(0, 5));
    await new Promise((r) => setTimeout(r, 20));
    client.reset();
  }
  await assertAliveAndBalanced();
});

test('a client resetting while the app is answering a refusal', async () => {
  const client = await RawClient.open(port);
  client.write(wsHandshake('/r400/ws'));
  client.reset();
  await assertAliveAndBalanced();
});

test('an app that is not listening gets the client a 502 problem', async () => {
  const dead = createNetServer();
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
  const deadPort = (dead.address() as AddressInfo).port;
  await new Promise<void>((r) => dead.close(() => r()));
  upstreams.upstreams.set('echo-dead', { ...upstreams.upstreams.get('echo')!, app: 'echo-dead', port: deadPort });
  const routes = new RouteTable([
    { app: 'echo', routes: [{ path: '/echo/', stripPrefix: true }] },
    { app: 'echo-dead', routes: [{ path: '/dead/', stripPrefix: true }] },
  ]);
  proxy.setRoutes(routes);
  const client = await RawClient.open(port);
  try {
    client.write(wsHandshake('/dead/ws'));
    const text = await client.until(hasWholeResponse);
    assert.match(text, /^HTTP\/1\.1 502 /);
    assert.match(text, /"app":"echo-dead"/);
  } finally {
    client.destroy();
  }
  await assertAliveAndBalanced();
});

test('large and fragmented messages cross the tunnel intact (16- and 64-bit frame lengths)', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/echo/ws`);
  try {
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    for (const size of [125, 126, 65_535, 65_536, 1_000_000]) {
      const payload = Buffer.alloc(size);
      for (let i = 0; i < size; i++) payload[i] = (i * 31) & 0xff;
      const echoed = new Promise<Buffer>((resolve) => ws.once('message', (data) => resolve(data as Buffer)));
      ws.send(payload, { binary: true });
      assert.deepEqual(await echoed, payload, `${size} bytes`);
    }
    // A message sent in fragments: the app reassembles it, and so does the client.
    const whole = new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
    ws.send('frag', { fin: false, binary: false });
    ws.send('ment', { fin: false, binary: false });
    ws.send('ed', { fin: true, binary: false });
    assert.equal(await whole, 'fragmented');
  } finally {
    ws.terminate();
  }
  await assertAliveAndBalanced();
});

test('an app that cuts its refusal short gets the client a closed connection, not a truncated answer taken as whole', async () => {
  const sockets = new Set<Socket>();
  const cutter = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('data', () => {
      socket.write('HTTP/1.1 403 Forbidden\r\ncontent-length: 100\r\n\r\nonly ten b');
      setTimeout(() => socket.resetAndDestroy(), 50);
    });
  });
  await new Promise<void>((r) => cutter.listen(0, '127.0.0.1', r));
  upstreams.upstreams.set('cut', { ...upstreams.upstreams.get('echo')!, app: 'cut', port: (cutter.address() as AddressInfo).port });
  proxy.setRoutes(
    new RouteTable([
      { app: 'echo', routes: [{ path: '/echo/', stripPrefix: true }] },
      { app: 'cut', routes: [{ path: '/cut/', stripPrefix: true }] },
    ]),
  );
  const client = await RawClient.open(port);
  try {
    client.write(wsHandshake('/cut/ws'));
    const text = await client.untilClosed();
    assert.match(text, /^HTTP\/1\.1 403 /);
    assert.ok(text.endsWith('only ten b'));
    assert.equal(hasWholeResponse(text), false);
  } finally {
    client.destroy();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => cutter.close(() => r()));
  }
  await assertAliveAndBalanced();
});
