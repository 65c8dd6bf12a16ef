/**
 * How often a request reaches the app when its connection fails before any answer (a "query of
 * death" that crashes the instance's connection on a GET): the README's promise is one retry on
 * another instance, whichever path (berth's own front or Node's server) serves the request. The
 * app here is a local TCP server that counts request heads and resets the connection on each.
 */
import assert from 'node:assert/strict';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, beforeEach, test } from 'node:test';
import { pino } from 'pino';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import type { Admission, Admitted, Upstream, UpstreamSource } from '../../src/proxy/upstream.js';

/** Request heads the app received, over both instances. */
let received = 0;
const servers: Server[] = [];
const sockets = new Set<Socket>();
let proxy: ProxyServer;
let port = 0;
let A: Upstream;
let B: Upstream;
/** The instance that answers once per connection (see killer), alone in its app. */
let K: Upstream;
/** Whether the second instance is in rotation. */
let twoInstances = true;
/** Whether K is the app's one instance (instead of A and B). */
let onlyK = false;
/** What `unreachable` answers (undefined: the source has none). */
let gone: boolean | undefined;
let unreachableAsked: string[] = [];

/**
 * An instance that reads a request head and resets the connection without answering; with
 * `answerFirst`, it answers the first request on each connection (kept alive) and resets on the
 * second: the app that closes an idle connection just as berth sends on it again.
 */
async function killer(answerFirst = false): Promise<number> {
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let text = '';
    let answered = !answerFirst;
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      if (!text.includes('\r\n\r\n')) return;
      received++;
      text = '';
      if (answered) return void socket.resetAndDestroy();
      answered = true;
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nkeep-alive: timeout=60\r\n\r\nok');
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

function upstream(instanceId: string, to: number): Upstream {
  return { app: 'a', instanceId, instanceName: instanceId, origin: `http://127.0.0.1:${to}`, host: '127.0.0.1', port: to, inFlight: 0, failures: 0 };
}

/** Another ready instance than `exclude`, as the activator answers. */
function other(exclude: string | undefined): Admitted | undefined {
  if (exclude === undefined) return { upstream: onlyK ? K : A, setCookie: undefined };
  if (onlyK) return undefined;
  if (exclude === 'A' && twoInstances) return { upstream: B, setCookie: undefined };
  return undefined;
}

const source: UpstreamSource = {
  admit: (_app, _req, options): Admission => {
    const chosen = other(options?.exclude);
    return chosen === undefined ? { kind: 'fail', error: new Error('no other instance') } : { kind: 'ready', ...chosen };
  },
  admitReady: (_app, _req, exclude) => other(exclude),
  began: () => undefined,
  ended: () => undefined,
  publicStatus: () => ({ state: 'running', ready: true }),
};

before(async () => {
  A = upstream('A', await killer());
  B = upstream('B', await killer());
  K = upstream('K', await killer(true));
  proxy = new ProxyServer({
    routes: new RouteTable([{ app: 'a', routes: [{ path: '/', stripPrefix: false }] }]),
    upstreams: source,
    logger: pino({ level: 'silent' }),
  });
  port = (await proxy.listen('127.0.0.1', 0)).port;
});

beforeEach(() => {
  received = 0;
  twoInstances = true;
  onlyK = false;
  gone = undefined;
  unreachableAsked = [];
  delete source.unreachable;
});

after(async () => {
  await proxy.close(1000);
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
});

/** Sends one request and reads its answer's status line (the proxy answers with a length, then closes or not). */
function statusOf(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within 10 s (got ${JSON.stringify(got)})`));
    }, 10_000);
    socket.on('error', () => undefined);
    socket.on('data', (c: Buffer) => {
      got += c.toString('latin1');
      if (!got.includes('\r\n\r\n')) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(got.slice(0, got.indexOf('\r\n')));
    });
    socket.write(text);
  });
}

const keptAlive = 'GET /crash HTTP/1.1\r\nHost: a.example\r\n\r\n';
const closing = 'GET /crash HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n';

for (const [path, request] of [
  ["berth's own front", keptAlive],
  ["Node's server", closing],
] as const) {
  test(`${path}: a GET whose connection is reset reaches the app twice at most (once more, on another instance)`, async () => {
    const frontBefore = proxy.frontRequests;
    assert.match(await statusOf(request), /^HTTP\/1\.1 502/);
    if (request === keptAlive) assert.ok(proxy.frontRequests > frontBefore, 'the fast path served it');
    assert.equal(received, 2, `the app received the GET ${received} times`);
  });

  test(`${path}: with one instance, still running, a reset GET is not sent to it again`, async () => {
    twoInstances = false;
    gone = false;
    source.unreachable = (_app, instanceId) => {
      unreachableAsked.push(instanceId);
      return Promise.resolve(gone!);
    };
    assert.match(await statusOf(request), /^HTTP\/1\.1 502/);
    assert.equal(received, 1, `the app received the GET ${received} times`);
    assert.deepEqual(unreachableAsked, ['A'], 'the engine is asked about the instance that failed');
  });
}

test('a POST on a kept-alive connection the app closes as berth sends on it again reaches the app once: 502, not resent', async () => {
  onlyK = true;
  for (const request of [keptAlive, closing]) {
    const post = request.replace('GET /crash', 'POST /order').replace('\r\n\r\n', '\r\nContent-Length: 0\r\n\r\n');
    received = 0;
    // The first POST opens a connection, answered and kept alive; the second is sent on it and meets the reset.
    assert.match(await statusOf(post), /^HTTP\/1\.1 200/);
    assert.match(await statusOf(post), /^HTTP\/1\.1 502/);
    assert.equal(received, 2, `POSTs the app received for two sent: ${received}`);
  }
});
