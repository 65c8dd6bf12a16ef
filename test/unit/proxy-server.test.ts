import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import { StaticUpstreams } from '../../src/proxy/static-upstreams.js';
import type { RequestRecord } from '../../src/store/store.js';
import { waitFor } from '../support/wait-for.js';

let backend: Server;
let wss: WebSocketServer;
let proxy: ProxyServer;
let proxyPort = 0;
const records: RequestRecord[] = [];

before(async () => {
  backend = createServer((req, res) => {
    if (req.url?.startsWith('/stream')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      let n = 0;
      const timer = setInterval(() => {
        res.write(`chunk${n}\n`);
        if (++n === 3) {
          clearInterval(timer);
          res.end();
        }
      }, 10);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] });
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, bytes: body.length }));
    });
  });
  wss = new WebSocketServer({ server: backend });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  const port = (backend.address() as AddressInfo).port;
  proxy = new ProxyServer({
    routes: new RouteTable([
      { app: 'echo', routes: [{ path: '/session/echo/', stripPrefix: true }] },
      { app: 'down', routes: [{ path: '/session/down/', stripPrefix: false }] },
    ]),
    upstreams: new StaticUpstreams({ echo: { host: '127.0.0.1', port }, down: { host: '127.0.0.1', port: 1 } }),
    logger: pino({ level: 'silent' }),
    onRequestDone: (record) => records.push(record),
  });
  proxyPort = (await proxy.listen('127.0.0.1', 0)).port;
});

after(async () => {
  await proxy.close(1000);
  wss.close();
  await new Promise<void>((r) => backend.close(() => r()));
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(path: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxyPort, path, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

test('proxies with the prefix stripped and forwarded headers set', async () => {
  const reply = await call('/session/echo/a/b?x=1', { headers: { 'x-forwarded-for': '6.6.6.6' } });
  assert.equal(reply.status, 200);
  const body = JSON.parse(reply.body) as { url: string; headers: Record<string, string> };
  assert.equal(body.url, '/a/b?x=1');
  assert.equal(body.headers['x-forwarded-for'], '127.0.0.1');
  assert.equal(body.headers['x-forwarded-proto'], 'http');
  assert.equal(body.headers['x-forwarded-host'], `127.0.0.1:${proxyPort}`);
  assert.equal(body.headers['x-real-ip'], '127.0.0.1');
  assert.equal(body.headers.forwarded, `for=127.0.0.1;proto=http;host="127.0.0.1:${proxyPort}"`);
  assert.equal(body.headers.host, `127.0.0.1:${proxyPort}`);
  assert.deepEqual(reply.headers['set-cookie'], ['a=1', 'b=2']);
});

test('a stripping route sends its prefix as X-Forwarded-Prefix, on the front and through Node alike', async () => {
  const front = JSON.parse((await call('/session/echo/a', { headers: { 'x-forwarded-prefix': '/evil' } })).body) as { url: string; headers: Record<string, string> };
  assert.equal(front.url, '/a');
  assert.equal(front.headers['x-forwarded-prefix'], '/session/echo');
  const node = JSON.parse((await call('/session/echo/a', { method: 'POST', body: 'x' })).body) as { headers: Record<string, string> };
  assert.equal(node.headers['x-forwarded-prefix'], '/session/echo');
});

test('GET of a stripping route\'s bare prefix is redirected to it with its slash (relative links resolve in the app)', async () => {
  const bare = await call('/session/echo?x=1');
  assert.equal(bare.status, 308);
  // Relative to the request, so a browser behind a proxy that mounts berth under a prefix stays inside it.
  assert.equal(bare.headers.location, './echo/?x=1');
  assert.equal(new URL(String(bare.headers.location), 'http://front.example/berth/session/echo?x=1').pathname, '/berth/session/echo/');
  // A POST is forwarded as before: a client posting to it may not follow a redirect.
  const posted = await call('/session/echo', { method: 'POST', body: 'x' });
  assert.equal(posted.status, 200);
  assert.equal((JSON.parse(posted.body) as { url: string }).url, '/');
});

test('streams a large request body upstream', async () => {
  const big = Buffer.alloc(5 * 1024 * 1024, 7);
  const reply = await call('/session/echo/upload', { method: 'POST', body: big, headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(reply.status, 200);
  assert.equal((JSON.parse(reply.body) as { bytes: number }).bytes, big.length);
});

test('streams a chunked response', async () => {
  const reply = await call('/session/echo/stream');
  assert.equal(reply.body, 'chunk0\nchunk1\nchunk2\n');
});

test('unknown route is a 404 problem+json for API clients and HTML for browsers', async () => {
  const api = await call('/nowhere');
  assert.equal(api.status, 404);
  assert.equal(api.headers['content-type'], 'application/problem+json');
  assert.match(JSON.parse(api.body).detail as string, /no app is routed at .*\/nowhere/);
  const html = await call('/nowhere', { headers: { accept: 'text/html' } });
  assert.equal(html.status, 404);
  assert.match(html.body, /<h1>404/);
});

test('an upstream refusing connections is a 502 naming the app', async () => {
  const reply = await call('/session/down/x');
  assert.equal(reply.status, 502);
  const body = JSON.parse(reply.body) as { app: string; detail: string };
  assert.equal(body.app, 'down');
  assert.match(body.detail, /refused/);
});

test('WebSocket upgrades are relayed both ways', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${proxyPort}/session/echo/ws`);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const echoed = new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
  ws.send('hello through berth');
  assert.equal(await echoed, 'hello through berth');
  ws.close();
});

test('a WebSocket to a dead upstream gets an HTTP 502', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${proxyPort}/session/down/ws`);
  const status = await new Promise<number>((resolve) => {
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => resolve(-1));
  });
  assert.equal(status, 502);
});

test('a WebSocket is recorded once it ends, as a plain request is (history, metrics, usage), with its status', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${proxyPort}/session/echo/ws?room=1`, { headers: { 'x-request-id': 'ws-recorded-1' } });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  // Open: not yet a finished request.
  assert.equal(records.find((r) => r.requestId === 'ws-recorded-1'), undefined);
  ws.close();
  await waitFor('the WebSocket recorded', () => records.some((r) => r.requestId === 'ws-recorded-1'), { timeoutMs: 10_000 });
  const record = records.find((r) => r.requestId === 'ws-recorded-1')!;
  assert.deepEqual([record.app, record.method, record.path, record.status], ['echo', 'GET', '/session/echo/ws?room=1', 101]);
  // A handshake the proxy answered itself (the app is down) is recorded with that answer.
  const down = new WebSocket(`ws://127.0.0.1:${proxyPort}/session/down/ws`, { headers: { 'x-request-id': 'ws-recorded-2' } });
  await new Promise<void>((resolve) => {
    down.once('unexpected-response', () => resolve());
    down.once('error', () => resolve());
  });
  await waitFor('the refused WebSocket recorded', () => records.some((r) => r.requestId === 'ws-recorded-2'), { timeoutMs: 10_000 });
  assert.equal(records.find((r) => r.requestId === 'ws-recorded-2')!.status, 502);
});

test('every request gets an id: answered as x-request-id, sent upstream once, recorded', async () => {
  const a = await call('/session/echo/id');
  const b = await call('/session/echo/id');
  const id = a.headers['x-request-id'];
  assert.equal(typeof id, 'string');
  assert.notEqual(b.headers['x-request-id'], id);
  assert.equal((JSON.parse(a.body) as { headers: Record<string, string> }).headers['x-request-id'], id);
  assert.ok(records.some((r) => r.requestId === id && r.app === 'echo' && r.status === 200));
  // A sane client id is kept, and sent upstream once (not twice, as 'id, id').
  const kept = await call('/session/echo/id', { headers: { 'X-Request-Id': 'client-id.42' } });
  assert.equal(kept.headers['x-request-id'], 'client-id.42');
  assert.equal((JSON.parse(kept.body) as { headers: Record<string, string> }).headers['x-request-id'], 'client-id.42');
  const replaced = await call('/session/echo/id', { headers: { 'X-Request-Id': 'not, sane' } });
  assert.notEqual(replaced.headers['x-request-id'], 'not, sane');
  assert.equal((JSON.parse(replaced.body) as { headers: Record<string, string> }).headers['x-request-id'], replaced.headers['x-request-id']);
});

test('a failed request carries its id too', async () => {
  const reply = await call('/session/down/x');
  assert.equal(reply.status, 502);
  const id = reply.headers['x-request-id'];
  assert.equal(typeof id, 'string');
  assert.ok(records.some((r) => r.requestId === id && r.app === 'down' && r.status === 502));
});

test("the history counts the body bytes of berth's own answers, as of an app's (none for a HEAD)", async () => {
  // GET and HEAD go through Node's server (replayed after the front's failed try); a POST's failure is the front's own answer.
  for (const method of ['GET', 'HEAD', 'POST']) {
    const reply = await call('/session/down/x', { method });
    assert.equal(reply.status, 502);
    const record = records.find((r) => r.requestId === reply.headers['x-request-id']);
    assert.ok(record, `a ${method} record`);
    assert.equal(record.bytesOut, method === 'HEAD' ? 0 : Buffer.byteLength(reply.body), `${method}: the 502's body, not 0`);
    assert.ok(method === 'HEAD' || record.bytesOut > 0);
  }
});

test('at debug level every exchange is logged once, with its request id', async () => {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const port = (backend.address() as AddressInfo).port;
  const logged = new ProxyServer({
    routes: new RouteTable([{ app: 'echo', routes: [{ path: '/session/echo/', stripPrefix: true }] }]),
    upstreams: new StaticUpstreams({ echo: { host: '127.0.0.1', port } }),
    logger,
  });
  const address = await logged.listen('127.0.0.1', 0);
  try {
    const reply = await new Promise<Reply>((resolve, reject) => {
      request({ host: '127.0.0.1', port: address.port, path: '/session/echo/x?secret=1' }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' }));
      }).on('error', reject).end();
    });
    const access = lines.filter((l) => l.msg === 'request');
    assert.equal(access.length, 1);
    assert.equal(access[0]!.requestId, reply.headers['x-request-id']);
    assert.equal(access[0]!.path, '/session/echo/x', 'the query string is left out');
    assert.equal(access[0]!.status, 200);
    assert.equal(access[0]!.level, 20);
  } finally {
    await logged.close(1000);
  }
});

test('the history record keeps the query string and names the instance that served it', async () => {
  const reply = await call('/session/echo/search?q=a%20b&page=2');
  assert.equal(reply.status, 200);
  const id = reply.headers['x-request-id'];
  const record = records.find((r) => r.requestId === id);
  assert.ok(record, 'recorded');
  assert.equal(record.path, '/session/echo/search?q=a%20b&page=2');
  assert.equal(record.instance, `127.0.0.1:${(backend.address() as AddressInfo).port}`);
});
