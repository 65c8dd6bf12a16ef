import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import { NoOtherInstanceError, StartFailedError } from '../../src/errors.js';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import type { Admission, AdmitOptions, PublicStatus, Upstream, UpstreamSource } from '../../src/proxy/upstream.js';

/**
 * The proxy's side of the seam: whatever `admit` answers, the proxy does that
 * and decides nothing itself. The source is scripted per test: `answer` is
 * asked for every admission, and every call is recorded.
 */
class ScriptedSource implements UpstreamSource {
  answer: (options: AdmitOptions | undefined, call: number) => Admission = () => ({ kind: 'fail', error: new Error('unscripted') });
  gone: boolean | undefined;
  readonly admits: (AdmitOptions | undefined)[] = [];
  readonly unreachables: string[] = [];
  began = (): void => undefined;
  ended = (): void => undefined;

  admit(_app: string, _req: IncomingMessage, options?: AdmitOptions): Admission {
    this.admits.push(options === undefined ? undefined : { ...options });
    return this.answer(options, this.admits.length);
  }

  publicStatus(): PublicStatus | undefined {
    return { state: 'starting', ready: false };
  }

  get unreachable(): ((app: string, instanceId: string) => Promise<boolean>) | undefined {
    if (this.gone === undefined) return undefined;
    return (_app, instanceId) => {
      this.unreachables.push(instanceId);
      return Promise.resolve(this.gone!);
    };
  }
}

function upstream(instanceId: string, port: number): Upstream {
  return { app: 'web', instanceId, origin: `http://127.0.0.1:${port}`, host: '127.0.0.1', port, inFlight: 0, failures: 0 };
}

let backend: Server;
let wss: WebSocketServer;
let proxy: ProxyServer;
let proxyPort = 0;
let live: Upstream;
/** Nothing listens on port 1: every connection to it is refused. */
const dead = upstream('dead', 1);
const source = new ScriptedSource();

before(async () => {
  backend = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`served ${req.method} ${req.url}`);
  });
  wss = new WebSocketServer({ server: backend });
  wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data)));
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  live = upstream('live', (backend.address() as AddressInfo).port);
  proxy = new ProxyServer({
    routes: new RouteTable([{ app: 'web', routes: [{ path: '/', stripPrefix: false }] }]),
    upstreams: source,
    logger: pino({ level: 'silent' }),
  });
  proxyPort = (await proxy.listen('127.0.0.1', 0)).port;
});

after(async () => {
  await proxy.close(1000);
  wss.close();
  await new Promise<void>((r) => backend.close(() => r()));
});

beforeEach(() => {
  source.admits.length = 0;
  source.unreachables.length = 0;
  source.gone = undefined;
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(method = 'GET', headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxyPort, path: '/x', method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const ready = (u: Upstream, setCookie?: string): Admission => ({ kind: 'ready', upstream: u, setCookie });

test('a page answer is the waiting page, with the request id', async () => {
  source.answer = () => ({ kind: 'page', title: 'Hang on', message: 'warming up' });
  const reply = await call('GET', { accept: 'text/html' });
  assert.equal(reply.status, 503);
  assert.match(String(reply.headers['content-type']), /^text\/html/);
  assert.match(reply.body, /Hang on/);
  assert.match(reply.body, /warming up/);
  assert.ok(reply.headers['x-request-id']);
  assert.deepEqual(source.admits, [undefined]);
});

test('a wait answer forwards once it resolves, with the cookie it carries', async () => {
  source.answer = () => ({ kind: 'wait', ready: new Promise((r) => setTimeout(() => r({ upstream: live, setCookie: 'berth_web=live' }), 30)) });
  const reply = await call();
  assert.equal(reply.status, 200);
  assert.equal(reply.body, 'served GET /x');
  assert.deepEqual(reply.headers['set-cookie'], ['berth_web=live']);
});

test('a wait that rejects and a fail answer are answered with the error’s status', async () => {
  source.answer = () => ({ kind: 'wait', ready: Promise.reject(new StartFailedError('web', 'exec format error', true)) });
  const timedOut = await call();
  assert.equal(timedOut.status, 504);
  assert.match(timedOut.body, /exec format error/);
  source.answer = () => ({ kind: 'fail', error: new StartFailedError('web', 'no such image', false) });
  const failed = await call();
  assert.equal(failed.status, 502);
  assert.match(failed.body, /no such image/);
});

test('a refused connection is retried on the instance admit chooses with the failed one excluded; its cookie replaces the first', async () => {
  source.answer = (options) => (options?.exclude === 'dead' ? ready(live, 'berth_web=live') : ready(dead, 'berth_web=dead'));
  const reply = await call();
  assert.equal(reply.status, 200);
  assert.equal(reply.body, 'served GET /x');
  assert.deepEqual(reply.headers['set-cookie'], ['berth_web=live'], 'the client is pinned to the instance that answered');
  assert.deepEqual(source.admits, [undefined, { exclude: 'dead' }]);
});

test('with no other instance, a gone instance is reported and the request admitted afresh', async () => {
  source.gone = true;
  source.answer = (options, n) => (options?.exclude ? { kind: 'fail', error: new NoOtherInstanceError('web', 'dead') } : n === 1 ? ready(dead) : ready(live));
  const reply = await call();
  assert.equal(reply.status, 200);
  assert.equal(reply.body, 'served GET /x');
  assert.deepEqual(source.unreachables, ['dead']);
  assert.deepEqual(source.admits, [undefined, { exclude: 'dead' }, undefined]);
});

test('with no other instance and the instance still running, the refusal is the answer', async () => {
  source.gone = false;
  source.answer = (options) => (options?.exclude ? { kind: 'fail', error: new NoOtherInstanceError('web', 'dead') } : ready(dead));
  const reply = await call();
  assert.equal(reply.status, 502);
  assert.match(reply.body, /refused the connection/);
  assert.deepEqual(source.unreachables, ['dead']);
  assert.equal(source.admits.length, 2, 'asked once, and once for the retry');
});

test('a POST is never sent twice: no retry is asked for', async () => {
  source.answer = (options) => (options?.exclude ? ready(live) : ready(dead));
  const reply = await call('POST', { 'content-type': 'text/plain' }, 'payload');
  assert.equal(reply.status, 502);
  assert.deepEqual(source.admits, [undefined]);
});

function openWebSocket(): Promise<{ ws?: WebSocket; status?: number; retryAfter?: string }> {
  const ws = new WebSocket(`ws://127.0.0.1:${proxyPort}/ws`, { headers: { accept: 'text/html' } });
  return new Promise((resolve) => {
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode, retryAfter: res.headers['retry-after'] as string | undefined }));
    ws.once('error', () => resolve({ status: -1 }));
  });
}

test('a WebSocket handshake is admitted as an upgrade, and held through a wait', async () => {
  source.answer = () => ({ kind: 'wait', ready: new Promise((r) => setTimeout(() => r({ upstream: live, setCookie: undefined }), 30)) });
  const { ws } = await openWebSocket();
  assert.ok(ws, 'the socket opened');
  const echoed = new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
  ws.send('through the seam');
  assert.equal(await echoed, 'through the seam');
  ws.close();
  assert.deepEqual(source.admits, [{ upgrade: true }]);
});

test('a page answer to an upgrade (which a source must never give) is a 503 to try again, not a page', async () => {
  source.answer = () => ({ kind: 'page' });
  const { status, retryAfter } = await openWebSocket();
  assert.equal(status, 503);
  assert.equal(retryAfter, '1');
});
