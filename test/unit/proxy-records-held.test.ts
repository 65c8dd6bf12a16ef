import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import { BerthError } from '../../src/errors.js';
import { CrashLoopError, QueueFullError } from '../../src/activator/start-errors.js';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import type { Admission, Admitted, AdmitOptions, Upstream, UpstreamSource } from '../../src/proxy/upstream.js';
import type { RequestRecord } from '../../src/store/store.js';
import { waitFor } from '../support/wait-for.js';

// The paths through admission (held, paged, refused, retried, a client that leaves) and the
// WebSocket ones are each told to the history exactly once, and every `began` gets its `ended`.

let app: Server;
let wss: WebSocketServer;
let proxy: ProxyServer;
let port = 0;
let appPort = 0;
const records: RequestRecord[] = [];
let began = 0;
let ended = 0;
/** What `admit` answers next, per app (the default: the live app, ready). */
let next: (app: string, options?: AdmitOptions) => Admission;

function upstream(instanceId: string, to: number): Upstream {
  return { app: 'a', instanceId, instanceName: instanceId, origin: `http://127.0.0.1:${to}`, host: '127.0.0.1', port: to, inFlight: 0, failures: 0 };
}

function ready(u: Upstream): Admitted {
  return { upstream: u, setCookie: undefined };
}

const source: UpstreamSource = {
  admit: (a, _req, options) => next(a, options),
  began: () => void began++,
  ended: () => void ended++,
  publicStatus: () => ({ state: 'starting', ready: false }),
  // berth's own front serves a plain request itself only when this answers.
  admitReady: (_a, _req, exclude) => (fast && exclude === undefined ? ready(fastTo) : undefined),
};
/** Whether the fast path (berth's own HTTP/1.1 front) may serve plain requests. */
let fast = false;
/** The instance the fast path is given. */
let fastTo: Upstream;

before(async () => {
  app = createServer((req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      if (req.url?.startsWith('/slow')) return; // never answers: the client leaves first
      res.writeHead(200, { 'content-length': String(bytes).length });
      res.end(String(bytes));
    });
  });
  wss = new WebSocketServer({ noServer: true });
  app.on('upgrade', (req, socket, head) => {
    if (req.url === '/refuse') {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (m) => ws.send(m)));
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  appPort = (app.address() as AddressInfo).port;
  proxy = new ProxyServer({
    routes: new RouteTable([{ app: 'a', routes: [{ path: '/', stripPrefix: false }] }]),
    upstreams: source,
    logger: pino({ level: 'silent' }),
    onRequestDone: (record) => records.push(record),
  });
  port = (await proxy.listen('127.0.0.1', 0)).port;
});

beforeEach(() => {
  fast = false;
  fastTo = upstream('fast', appPort);
  next = () => ({ kind: 'ready', ...ready(upstream('live', appPort)) });
});

after(async () => {
  await proxy.close(1000);
  wss.close();
  await new Promise<void>((r) => app.close(() => r()));
});

/** Sends raw bytes and reads until the proxy closes the connection (bounded). */
function raw(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no close within 10 s'));
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

/** Opens a connection, sends `text`, and resolves the socket once connected (the caller destroys it). */
function opened(text: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(text);
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

async function onlyRecordOf(path: string): Promise<RequestRecord> {
  await waitFor(`a record of ${path}`, () => records.some((r) => r.path === path));
  await sleep(100);
  const mine = records.filter((r) => r.path === path);
  assert.equal(mine.length, 1, `recorded ${mine.length} times: ${JSON.stringify(mine)}`);
  await waitFor('every began ended', () => began === ended || undefined, { timeoutMs: 5000 }).catch(() => assert.equal(ended, began, 'began/ended'));
  return mine[0]!;
}

const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n`;

test('a request held for a start, then served, is one record that waited, with the instance that served it', async () => {
  next = () => ({ kind: 'wait', ready: sleep(50).then(() => ready(upstream('late', appPort))) });
  assert.match(await raw(GET('/held')), /^HTTP\/1\.1 200/);
  const r = await onlyRecordOf('/held');
  assert.equal(r.status, 200);
  assert.equal(r.waited, true);
  assert.equal(r.instance, 'late');
});

test('the waiting page, a queue-full 503 and a crash-loop 503 are one record each', async () => {
  next = () => ({ kind: 'page' });
  assert.match(await raw(`GET /paged HTTP/1.1\r\nHost: a.example\r\nAccept: text/html\r\nConnection: close\r\n\r\n`), /^HTTP\/1\.1 503/);
  const paged = await onlyRecordOf('/paged');
  assert.equal(paged.status, 503);
  assert.ok(paged.bytesOut > 0);
  next = () => ({ kind: 'fail', error: new QueueFullError('a', 100) });
  assert.match(await raw(GET('/full')), /^HTTP\/1\.1 503/);
  assert.equal((await onlyRecordOf('/full')).status, 503);
  // A worker's answer (later) from the control: a crash loop, then a start that failed while held.
  next = () => ({ kind: 'later', admission: sleep(20).then((): Admission => ({ kind: 'fail', error: new CrashLoopError('a', 'exit 1', 5) })) });
  assert.match(await raw(GET('/crash')), /^HTTP\/1\.1 503/);
  assert.equal((await onlyRecordOf('/crash')).status, 503);
  next = () => ({ kind: 'wait', ready: sleep(20).then((): Admitted => { throw new BerthError('upstream_timeout', 'app a did not become ready'); }) });
  assert.match(await raw(GET('/timeout')), /^HTTP\/1\.1 504/);
  const timedOut = await onlyRecordOf('/timeout');
  assert.equal(timedOut.status, 504);
  assert.equal(timedOut.waited, true);
});

test('a client that leaves while held is one aborted record (status 0), not another when the app is ready', async () => {
  let release!: (a: Admitted) => void;
  let left = 0;
  next = () => ({ kind: 'wait', ready: new Promise<Admitted>((r) => (release = r)), leave: () => void left++ });
  const socket = await opened(GET('/gone-held'));
  await waitFor('the request held', () => began > ended);
  // A reset: a FIN alone is a half-close, whose answer berth still sends (src/net/half-open.ts).
  socket.resetAndDestroy();
  await waitFor('its place given back', () => left === 1);
  release(ready(upstream('live', appPort)));
  const r = await onlyRecordOf('/gone-held');
  assert.equal(r.status, 0);
});

test('a client that leaves mid-body or while the app thinks is one aborted record', async () => {
  const body = await opened('POST /mid-body HTTP/1.1\r\nHost: a.example\r\nContent-Length: 100\r\n\r\nabc');
  await waitFor('the request began', () => began > ended);
  body.resetAndDestroy();
  assert.equal((await onlyRecordOf('/mid-body')).status, 0);
  const slow = await opened(`GET /slow HTTP/1.1\r\nHost: a.example\r\n\r\n`);
  await waitFor('the request began', () => began > ended);
  await sleep(50);
  slow.resetAndDestroy();
  assert.equal((await onlyRecordOf('/slow')).status, 0);
  fast = true;
  const served = proxy.frontRequests;
  const fastSlow = await opened(`GET /slow?fast HTTP/1.1\r\nHost: a.example\r\n\r\n`);
  await waitFor('the fast path took it', () => proxy.frontRequests > served);
  await sleep(50);
  fastSlow.resetAndDestroy();
  const r = await onlyRecordOf('/slow?fast');
  assert.equal(r.status, 0);
  assert.equal(r.instance, 'fast');
});

test('a request retried on another instance is one record, of the instance that answered', async () => {
  next = (_a, options) => ({ kind: 'ready', ...ready(options?.exclude === undefined ? upstream('dead', 1) : upstream('second', appPort)) });
  assert.match(await raw(GET('/retried')), /^HTTP\/1\.1 200/);
  const r = await onlyRecordOf('/retried');
  assert.equal(r.status, 200);
  assert.equal(r.instance, 'second');
});

test('a fast-path request whose instance is unreachable, served afresh by the full path, is one record', async () => {
  fast = true;
  fastTo = upstream('dead', 1);
  // The engine says the instance exited: the full path wakes the app again (here: answers the live one).
  source.unreachable = () => Promise.resolve(true);
  const served = proxy.frontRequests;
  // Kept alive (berth's front leaves a Connection: close request to Node); the second one ends the connection.
  const reply = await raw(`GET /replayed HTTP/1.1\r\nHost: a.example\r\n\r\n${GET('/replayed-end')}`).finally(() => delete source.unreachable);
  assert.equal(reply.match(/HTTP\/1\.1 200/g)?.length, 2, reply);
  assert.ok(proxy.frontRequests > served, 'the fast path took it first');
  const r = await onlyRecordOf('/replayed');
  assert.equal(r.status, 200);
  assert.equal(r.instance, 'live');
});

test('a WebSocket the app refuses is one record with its answer; one to a stopped app is one 101 that waited', async () => {
  const refused = new WebSocket(`ws://127.0.0.1:${port}/refuse`);
  const code = await new Promise<number>((resolve) => {
    refused.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    refused.on('error', () => resolve(-1));
  });
  refused.terminate();
  assert.equal(code, 403);
  assert.equal((await onlyRecordOf('/refuse')).status, 403);
  next = (_a, options) => {
    assert.equal(options?.upgrade, true);
    return { kind: 'wait', ready: sleep(50).then(() => ready(upstream('woken', appPort))) };
  };
  const ws = new WebSocket(`ws://127.0.0.1:${port}/cold`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => ws.send('hi'));
    ws.once('message', () => resolve());
    ws.once('error', reject);
  });
  ws.close();
  const r = await onlyRecordOf('/cold');
  assert.equal(r.status, 101);
  assert.equal(r.waited, true);
  assert.equal(r.instance, 'woken');
});
