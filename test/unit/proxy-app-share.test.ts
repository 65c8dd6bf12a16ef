import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { pino } from 'pino';
import { proxySettingsOf } from '../../src/cluster/gateway-workers.js';
import { buildConfig } from '../../src/config/load-config.js';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import { StaticUpstreams } from '../../src/proxy/static-upstreams.js';
import { appShareOf } from '../../src/proxy/app-share.js';

/**
 * One app must not take every other down: an app whose upstream accepts and never
 * answers holds a client connection per request, and without a per-app share its
 * clients filled the whole connection cap, so every other app's clients got 503.
 */

let app: Server;
let appPort = 0;
let hang: NetServer;
let hangPort = 0;
const held: Socket[] = [];

before(async () => {
  app = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  appPort = (app.address() as AddressInfo).port;
  // Accepts and never answers.
  hang = createNetServer((socket) => {
    socket.on('error', () => undefined);
    held.push(socket);
  });
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  hangPort = (hang.address() as AddressInfo).port;
});

after(async () => {
  for (const s of held) s.destroy();
  await new Promise((r) => app.close(r));
  await new Promise((r) => hang.close(r));
});

/** Sends one raw request and collects everything until the server closes (or `limitMs`). */
function rawGet(port: number, path: string, limitMs: number, from: string, extra = ''): { socket: Socket; answer: Promise<string> } {
  const socket = connect({ port, host: '127.0.0.1', localAddress: from });
  socket.on('error', () => undefined);
  socket.setEncoding('latin1');
  let text = '';
  socket.on('data', (c: string) => (text += c));
  socket.write(`GET ${path} HTTP/1.1\r\nhost: x\r\n${extra}\r\n`);
  const answer = new Promise<string>((resolve) => {
    const timer = setTimeout(() => resolve(text), limitMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
  return { socket, answer };
}

function get(port: number, path: string, from = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, localAddress: from }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('per-app share of the connection cap', () => {
  it('is half the cap, at least 1, and no bound without a cap', () => {
    assert.equal(appShareOf(10_000), 5_000);
    assert.equal(appShareOf(9), 4);
    assert.equal(appShareOf(1), 1);
    assert.equal(appShareOf(Infinity), Infinity);
  });

  it('an app that never answers gets 503 past its share, closed; another app is still served', async () => {
    const proxy = new ProxyServer({
      routes: new RouteTable([
        { app: 'ok', routes: [{ path: '/ok/', stripPrefix: true }] },
        { app: 'hang', routes: [{ path: '/hang/', stripPrefix: true }] },
      ]),
      upstreams: new StaticUpstreams({ ok: { host: '127.0.0.1', port: appPort }, hang: { host: '127.0.0.1', port: hangPort } }),
      logger: pino({ level: 'silent' }),
      // The hung app is waited for far longer than the test runs.
      timeouts: { upstreamResponseMs: 120_000 },
      maxConnections: 8,
    });
    const port = (await proxy.listen('127.0.0.1', 0)).port;
    const clients: Socket[] = [];
    try {
      // Four clients of the hung app (each its own address, under its own share) take its share: their
      // requests reach the app, which holds them.
      const reached = held.length;
      for (let i = 0; i < 4; i++) clients.push(rawGet(port, `/hang/${i}`, 20_000, `127.0.1.${i + 1}`).socket);
      const inFlight = Date.now() + 15_000;
      while (held.length < reached + 4 && Date.now() < inFlight) await new Promise((r) => setTimeout(r, 20));
      assert.equal(held.length, reached + 4, 'four requests reached the hung app');
      // Three more and a WebSocket handshake fill the cap: all four are refused for the app's share.
      const tries = Array.from({ length: 3 }, (_, i) => rawGet(port, `/hang/${i + 4}`, 20_000, `127.0.1.${i + 5}`));
      for (const t of tries) clients.push(t.socket);
      const ws = rawGet(port, '/hang/ws', 20_000, '127.0.1.9', 'connection: upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n');
      clients.push(ws.socket);
      const refusals: string[] = [];
      for (const t of tries) void t.answer.then((text) => text !== '' && refusals.push(text));
      const deadline = Date.now() + 15_000;
      while (refusals.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(refusals.length, 3, 'the requests past the share are answered at once');
      for (const text of refusals) {
        assert.match(text, /^HTTP\/1\.1 503 /);
        assert.match(text, /retry-after: 1\r\n/i);
        assert.match(text, /connection: close\r\n/i);
        assert.match(text, /app hang already has 4 requests in flight/);
      }
      assert.match(await ws.answer, /^HTTP\/1\.1 503 [^]*app hang already has 4 requests in flight/);
      // The other app's clients still find room under the cap.
      assert.equal(await get(port, '/ok/x', '127.0.2.1'), 200);
      // Reset, not a FIN: a FIN alone is a half-close whose request is still answered.
      for (const s of clients) s.resetAndDestroy();
      const gone = Date.now() + 15_000;
      while (proxy.openConnections > 0 && Date.now() < gone) await new Promise((r) => setTimeout(r, 20));
      // Its share is back once its clients went.
      const again = rawGet(port, '/hang/again', 20_000, '127.0.1.1');
      clients.push(again.socket);
      let pending = true;
      void again.answer.then(() => (pending = false));
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(pending, 'a request within the share is held for the app, not refused');
    } finally {
      for (const s of clients) s.destroy();
      await proxy.close(100);
    }
  });

  it('limits.connectionsPerClient: one client address past it gets a 429, closed; other addresses and trusted proxies are served; unset, one address may take the whole cap', async () => {
    const start = async (trustedProxies: string[], perClient: number | null = 4) => {
      const proxy = new ProxyServer({
        routes: new RouteTable([{ app: 'ok', routes: [{ path: '/ok/', stripPrefix: true }] }]),
        upstreams: new StaticUpstreams({ ok: { host: '127.0.0.1', port: appPort } }),
        logger: pino({ level: 'silent' }),
        trustedProxies,
        maxConnections: 8,
        ...(perClient === null ? {} : { maxConnectionsPerClient: perClient }),
      });
      return { proxy, port: (await proxy.listen('127.0.0.1', 0)).port };
    };
    const sockets: Socket[] = [];
    const idle = (port: number, from: string) => {
      const socket = connect({ port, host: '127.0.0.1', localAddress: from });
      socket.on('error', () => undefined);
      sockets.push(socket);
    };
    const { proxy, port } = await start([]);
    try {
      // One address opens idle connections up to its share, then asks again.
      for (let i = 0; i < 4; i++) idle(port, '127.0.3.1');
      const deadline = Date.now() + 15_000;
      while (proxy.openConnections < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(proxy.openConnections, 4);
      const refused = rawGet(port, '/ok/x', 15_000, '127.0.3.1');
      sockets.push(refused.socket);
      const text = await refused.answer;
      assert.match(text, /^HTTP\/1\.1 429 /);
      assert.match(text, /retry-after: 1\r\n/);
      assert.match(text, /connection: close\r\n/);
      assert.equal(proxy.openConnections, 4, 'the refused connection never counted');
      // Another address still finds room.
      assert.equal(await get(port, '/ok/y', '127.0.3.2'), 200);
    } finally {
      for (const s of sockets.splice(0)) s.destroy();
      await proxy.close(100);
    }
    const trusted = await start(['127.0.3.1']);
    try {
      for (let i = 0; i < 6; i++) idle(trusted.port, '127.0.3.1');
      const deadline = Date.now() + 15_000;
      while (trusted.proxy.openConnections < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(trusted.proxy.openConnections, 6, 'a trusted proxy carries many clients: held to the cap alone');
      assert.equal(await get(trusted.port, '/ok/z', '127.0.3.1'), 200);
    } finally {
      for (const s of sockets.splice(0)) s.destroy();
      await trusted.proxy.close(100);
    }
    // Unset (the default), the listener's cap alone holds: a cap test, a benchmark or a local reverse proxy comes from one address.
    const unbounded = await start([], null);
    try {
      for (let i = 0; i < 7; i++) idle(unbounded.port, '127.0.3.1');
      const deadline = Date.now() + 15_000;
      while (unbounded.proxy.openConnections < 7 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(unbounded.proxy.openConnections, 7);
      assert.equal(await get(unbounded.port, '/ok/w', '127.0.3.1'), 200);
    } finally {
      for (const s of sockets) s.destroy();
      await unbounded.proxy.close(100);
    }
  });
});

test('limits.connectionsPerClient: read from the config and handed to every worker; unset, none', async () => {
  const set = await buildConfig({ limits: { connectionsPerClient: 50 } }, tmpdir());
  assert.equal(set.limits.connectionsPerClient, 50);
  assert.equal(proxySettingsOf(set, Buffer.alloc(32), 1000, 'silent').maxConnectionsPerClient, 50);
  const unset = await buildConfig({}, tmpdir());
  assert.equal(unset.limits.connectionsPerClient, undefined);
  assert.equal(proxySettingsOf(unset, Buffer.alloc(32), 1000, 'silent').maxConnectionsPerClient, undefined);
  await assert.rejects(buildConfig({ limits: { connectionsPerClient: 0 } }, tmpdir()), /limits\.connectionsPerClient/);
});
