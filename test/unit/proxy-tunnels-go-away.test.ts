// An instance that leaves the rotation (a stop, a scale-down, an update) tells its open
// WebSockets to go away: close code 1001, then cut within the grace. Before, a drain waited
// on them for its whole bound (30 s for every `berth stop` with one open), then the container's
// stop cut them without a close frame (1006). Other instances' WebSockets are left alone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { ReadySet } from '../../src/cluster/ready-set.js';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import { tunnelsGoAway } from '../../src/proxy/tunnels-go-away.js';
import { TestUpstreams } from '../support/test-upstreams.js';
import { waitFor } from '../support/wait-for.js';
import { openWebSocket } from '../support/websocket-client.js';

let backend: Server;
let wss: WebSocketServer;
let upstreams: TestUpstreams;
let proxy: ProxyServer;
let port = 0;

before(async () => {
  backend = createServer((_req, res) => res.end('ok'));
  wss = new WebSocketServer({ server: backend });
  wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data)));
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  const target = { host: '127.0.0.1', port: (backend.address() as AddressInfo).port };
  upstreams = new TestUpstreams({ a: target, b: target });
  proxy = new ProxyServer({
    routes: new RouteTable(['a', 'b'].map((app) => ({ app, routes: [{ path: `/${app}/`, stripPrefix: true }] }))),
    upstreams,
    logger: pino({ level: 'silent' }),
  });
  port = (await proxy.listen('127.0.0.1', 0)).port;
});

after(async () => {
  await proxy.close(1000);
  wss.close();
  await new Promise<void>((r) => backend.close(() => r()));
});

/** An open, echoing WebSocket through the proxy to `app`, and how it closed once it does. */
async function openSocket(app: string): Promise<{ ws: WebSocket; closed: Promise<number> }> {
  const { socket: ws, closed } = await openWebSocket(`ws://127.0.0.1:${port}/${app}/ws`);
  const echoed = new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
  ws.send('hello');
  assert.equal(await echoed, 'hello');
  return { ws, closed };
}

test("an instance's WebSockets are told to go away (1001) and end; another instance's stay open", async () => {
  const a1 = await openSocket('a');
  const a2 = await openSocket('a');
  const b = await openSocket('b');
  const upstreamA = upstreams.upstreams.get('a')!;
  assert.equal(upstreamA.tunnels?.size, 2, 'the proxy keeps its open tunnels on their instance');
  assert.equal(upstreamA.inFlight, 2);
  tunnelsGoAway(upstreamA);
  assert.deepEqual(await Promise.all([a1.closed, a2.closed]), [1001, 1001]);
  await waitFor('the tunnels to end and leave their instance', () => upstreamA.inFlight === 0 && upstreamA.tunnels?.size === 0, { timeoutMs: 5_000 });
  // b's instance was not told anything: its WebSocket still echoes.
  const echoed = new Promise<string>((resolve) => b.ws.once('message', (data) => resolve(String(data))));
  b.ws.send('still here');
  assert.equal(await echoed, 'still here');
  b.ws.close();
  assert.equal(await b.closed, 1005);
  await waitFor('b to balance', () => upstreams.upstreams.get('b')!.inFlight === 0 && upstreams.upstreams.get('b')!.tunnels?.size === 0, { timeoutMs: 5_000 });
});

test("a proxy worker's WebSockets go away when the control's snapshot says their instance drains", async () => {
  const set = new ReadySet('a', 'round-robin');
  const address = { id: 'i-1', host: '127.0.0.1', port: 1 };
  set.apply({ app: 'a', version: 1, ready: [address], status: { state: 'running', ready: true } });
  const upstream = set.upstreamFor(address);
  const told: number[] = [];
  // Stand-ins for the worker proxy's open tunnels on this instance (and one handshake still on its way).
  upstream.tunnels = new Set([
    { open: true, goAway: async (graceMs: number) => void told.push(graceMs) },
    { open: false, goAway: async () => assert.fail('a handshake on its way is left to finish') },
  ]);
  upstream.inFlight = 2;
  // A snapshot of the same app that keeps it in rotation says nothing to them.
  set.apply({ app: 'a', version: 2, ready: [address], status: { state: 'running', ready: true } });
  assert.deepEqual(told, []);
  set.apply({ app: 'a', version: 3, ready: [], status: { state: 'stopping', ready: false }, draining: ['i-1', 'i-unknown'] });
  assert.deepEqual(told, [1_000]);
});

test("another gateway's stop: a worker tells its WebSockets on every instance of the app to go away", () => {
  const set = new ReadySet('a', 'round-robin');
  const addresses = [{ id: 'i-1', host: '127.0.0.1', port: 1 }, { id: 'i-2', host: '127.0.0.1', port: 2 }];
  set.apply({ app: 'a', version: 1, ready: addresses, status: { state: 'running', ready: true } });
  const told: string[] = [];
  for (const address of addresses) {
    const upstream = set.upstreamFor(address);
    upstream.tunnels = new Set([{ open: true, goAway: async () => void told.push(address.id) }]);
  }
  set.tunnelsGoAway();
  assert.deepEqual(told.sort(), ['i-1', 'i-2']);
});
