// Adversarial clients against berth's own HTTP/1.1 front (src/proxy/front/), in process:
// timing attacks on its sweep, clients that read nothing, half-closes around the hand-off to
// Node's server, heads Node's parser reads differently, and the history of what it served.
// Real sockets on 127.0.0.1, a real app (node:http) and raw apps; no fakes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import { Agent, createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import { StaticUpstreams } from '../../src/proxy/static-upstreams.js';
import { Http1Front } from '../../src/proxy/front/http1-front.js';
import type { RequestRecord } from '../../src/store/store.js';
import type { Admission, Admitted, AdmitOptions, PublicStatus, Upstream, UpstreamSource } from '../../src/proxy/upstream.js';
import { NoOtherInstanceError } from '../../src/errors.js';
import { freePort } from '../support/free-port.js';
import { RawClient, hasWholeResponse } from '../support/raw-client.js';
import { waitFor } from '../support/wait-for.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`;
/** The statuses of the responses in `text`, in order (bodies here never contain a status line). */
const statuses = (text: string) => [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));

describe('the HTTP/1.1 front, adversarially', () => {
  let app: Server;
  let appHits = 0;
  /** A port nothing listens on: connections to it are refused. */
  let refusedPort = 0;
  let proxy: ProxyServer;
  let port = 0;
  const records: RequestRecord[] = [];

  before(async () => {
    app = createServer((req, res) => {
      appHits++;
      const url = req.url ?? '/';
      if (url.startsWith('/pad')) {
        // `#<i>#` then padding to 16 KiB: a reader can follow the order of the answers in a long stream.
        const i = new URL(url, 'http://x').searchParams.get('i') ?? '';
        const body = `#${i}#`.padEnd(16 * 1024, 'a');
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
        res.end(body);
        return;
      }
      if (url.startsWith('/slow')) {
        setTimeout(() => res.end(JSON.stringify({ url })), 300);
        return;
      }
      const body = JSON.stringify({ method: req.method, url });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    refusedPort = await freePort();
    proxy = new ProxyServer({
      routes: new RouteTable([
        { app: 'app', routes: [{ path: '/app/', stripPrefix: true }] },
        { app: 'down', routes: [{ path: '/down/', stripPrefix: true }] },
      ]),
      upstreams: new StaticUpstreams({
        app: { host: '127.0.0.1', port: (app.address() as AddressInfo).port },
        down: { host: '127.0.0.1', port: refusedPort },
      }),
      logger: pino({ level: 'silent' }),
      timeouts: { clientHeaderMs: 1_500 },
      onRequestDone: (record) => records.push(record),
    });
    port = (await proxy.listen('127.0.0.1', 0)).port;
  });

  after(async () => {
    await proxy.close(500);
    await new Promise<void>((r) => app.close(() => r()));
  });

  it('a kept-alive connection idle past the header timeout still gives its next head the whole bound (a head in two segments is no 408)', async () => {
    const client = await RawClient.open(port);
    try {
      client.write(get('/app/first'));
      assert.match(await client.until(hasWholeResponse), /^HTTP\/1\.1 200 /);
      client.clear();
      // Idle longer than the header timeout, well within the keep-alive timeout (65 s).
      await sleep(2_200);
      client.write('GET /app/second HTTP/1.1\r\n');
      await sleep(400);
      client.write('Host: 127.0.0.1\r\n\r\n');
      const text = await client.until(hasWholeResponse);
      assert.match(text, /^HTTP\/1\.1 200 /, 'the header timeout ran from the end of the previous response');
      assert.match(text, /"url":"\/second"/);
    } finally {
      client.destroy();
    }
  });

  it('a slowloris whose plain-looking head turns into another kind at the last moment still gets the 408 within the one header bound (not a second one from the hand-off)', async () => {
    const client = await RawClient.open(port);
    try {
      const began = Date.now();
      client.write('GET /app/drip HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      for (let i = 0; i < 5; i++) {
        await sleep(200);
        client.write(`X-Drip-${i}: ${'a'.repeat(10)}\r\n`);
      }
      // obs-text in a value: not a head the front takes, so Node's server gets the connection mid-head.
      client.write('X-Odd: caf\xe9\r\n');
      const text = await client.until((t) => t.includes('\r\n\r\n'), 6_000);
      const took = Date.now() - began;
      assert.match(text, /^HTTP\/1\.1 408 /);
      // The bound is 1.5 s from the first byte; the sweep adds at most a quarter second (and the machine some).
      assert.ok(took < 1_500 + 1_000, `the 408 came ${took} ms after the head began (Node alone would count 1.5 s again from the hand-off at ~1 s)`);
      assert.ok(took >= 1_400, `not before the bound: ${took} ms`);
      await client.untilClosed(3_000);
    } finally {
      client.destroy();
    }
  });

  it('part of a head and then the FIN gets the 400 Node would answer, at once, through the front and through Node alike', async () => {
    const answers: string[] = [];
    for (const partial of ['GET /app/x HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'GET /app/x HTTP/1.1\r\nX-Odd: caf\xe9\r\n']) {
      const client = await RawClient.open(port);
      try {
        const began = Date.now();
        client.write(partial);
        client.socket.end();
        const text = await client.untilClosed(3_000);
        assert.ok(Date.now() - began < 1_000, 'answered at once, not after the header bound');
        answers.push(text.slice(0, text.indexOf('\r\n')));
      } finally {
        client.destroy();
      }
    }
    assert.deepEqual(answers, ['HTTP/1.1 400 Bad Request', 'HTTP/1.1 400 Bad Request']);
  });

  it('a head completed by Node after a mid-head hand-off is served, and is not cut by the front\'s bound afterwards', async () => {
    const client = await RawClient.open(port);
    try {
      client.write('GET /app/late HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      await sleep(300);
      client.write('X-Odd: caf\xe9\r\n');
      await sleep(300);
      client.write('\r\n');
      const first = await client.until(hasWholeResponse);
      assert.match(first, /^HTTP\/1\.1 200 /);
      client.clear();
      // Past the first head's bound: Node's server has the connection, and its own keep-alive rules.
      await sleep(1_400);
      client.write(get('/app/again'));
      assert.match(await client.until(hasWholeResponse), /^HTTP\/1\.1 200 /);
    } finally {
      client.destroy();
    }
  });

  it('a client that pipelines without reading is not served ahead without bound (the answers would pile up in memory), and gets every answer, in order, once it reads', async () => {
    const count = 3_000; // 48 MiB of answers: far more than the kernel's socket buffers hold
    const hitsBefore = appHits;
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => undefined);
    await new Promise<void>((r) => socket.once('connect', () => r()));
    try {
      socket.pause();
      let batch = '';
      for (let i = 0; i < count; i++) batch += get(`/app/pad?i=${i}`);
      socket.write(batch);
      // Let the gateway do what it will while the client reads nothing.
      let seen = -1;
      for (let waited = 0; waited < 6_000 && appHits !== seen; waited += 1_000) {
        seen = appHits;
        await sleep(1_000);
      }
      const served = appHits - hitsBefore;
      assert.ok(served < count / 3, `the front served ${served} of ${count} pipelined requests to a client that read nothing`);
      // Now read: every answer comes, in order.
      const order: number[] = [];
      let tail = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${order.length} answers came`)), 60_000);
        socket.on('data', (chunk: Buffer) => {
          // A marker may be split across reads: the last bytes are looked at again with the next read,
          // and a marker that ended within them was counted already.
          const text = tail + chunk.toString('latin1');
          for (const m of text.matchAll(/#(\d+)#/g)) if (m.index + m[0].length > tail.length) order.push(Number(m[1]));
          tail = text.slice(-16);
          if (order.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        });
        socket.resume();
      });
      assert.deepEqual(order, Array.from({ length: count }, (_, i) => i));
    } finally {
      socket.destroy();
    }
  });

  it('a GET whose instance refuses, from a client that half-closed after it, gets the 502 (not a 400 blaming the client)', async () => {
    const client = await RawClient.open(port, { halfOpen: true });
    try {
      client.write(get('/down/x'));
      client.socket.end();
      const text = await client.untilClosed();
      assert.deepEqual(statuses(text), [502], text);
      assert.match(text, /"app":"down"/);
      assert.deepEqual(records.filter((r) => r.path === '/down/x').map((r) => r.status), [502], 'recorded once, as answered');
    } finally {
      client.destroy();
    }
  });

  it('a request the front does not take, with the FIN right behind it, is answered by Node, then the connection ends', async () => {
    const client = await RawClient.open(port, { halfOpen: true });
    try {
      client.write(get('/nowhere/x'));
      client.socket.end();
      const text = await client.untilClosed();
      assert.deepEqual(statuses(text), [404], text);
    } finally {
      client.destroy();
    }
  });

  it('a GET replayed through Node after its instance refused keeps its place before the requests pipelined behind it, each answered and recorded once', async () => {
    const client = await RawClient.open(port);
    const from = records.length;
    try {
      client.write(get('/down/a') + get('/app/b') + get('/app/c'));
      const text = await client.until((t) => statuses(t).length === 3 && t.includes('"url":"/c"'));
      assert.deepEqual(statuses(text), [502, 200, 200]);
      assert.ok(text.indexOf('"url":"/b"') < text.indexOf('"url":"/c"'));
      // Records come after the answers are on the wire: polled for the three, then a short look for a fourth.
      await waitFor('the three records', () => records.length - from >= 3, { timeoutMs: 5_000 }).catch(() => undefined);
      await sleep(100);
      assert.deepEqual(
        records.slice(from).map((r) => [r.path, r.status]),
        [
          ['/down/a', 502],
          ['/app/b', 200],
          ['/app/c', 200],
        ],
      );
    } finally {
      client.destroy();
    }
  });

  it('Proxy-Connection: close ends the connection after the answer, as Node reads it (llhttp takes it for Connection)', async () => {
    const client = await RawClient.open(port);
    try {
      client.write(get('/app/pc', 'Proxy-Connection: close\r\n'));
      const text = await client.untilClosed(3_000);
      assert.deepEqual(statuses(text), [200]);
    } finally {
      client.destroy();
    }
  });

  it("Content-Length: 0 with a trailing tab is refused as Node's parser refuses it", async () => {
    const hits = appHits;
    const client = await RawClient.open(port);
    try {
      client.write('POST /app/cl HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\t\r\n\r\n');
      const text = await client.untilClosed(3_000);
      assert.deepEqual(statuses(text), [400]);
      assert.equal(appHits, hits, 'the app was sent a request Node refuses');
    } finally {
      client.destroy();
    }
  });

  it('bytes split at any position around a hand-off: every request answered once, in order', async () => {
    const stream = get('/app/s1') + 'POST /app/s2 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\n\r\nabc' + get('/app/s3');
    for (let cut = 1; cut < stream.length; cut++) {
      const client = await RawClient.open(port);
      try {
        client.write(stream.slice(0, cut));
        await sleep(2);
        client.write(stream.slice(cut));
        const text = await client.until((t) => t.includes('"url":"/s3"') && hasWholeResponse(t.slice(t.lastIndexOf('HTTP/1.1'))));
        assert.deepEqual(statuses(text), [200, 200, 200], `cut at ${cut}`);
        assert.deepEqual([...text.matchAll(/"url":"([^"]+)"/g)].map((m) => m[1]), ['/s1', '/s2', '/s3'], `cut at ${cut}`);
      } finally {
        client.destroy();
      }
    }
  });

  it('a hand-off with more than 64 KiB read ahead behind a slow answer (reading paused): every request answered once, in order', async () => {
    const client = await RawClient.open(port);
    const plain = 2_500;
    try {
      let batch = get('/app/slow');
      for (let i = 0; i < plain; i++) batch += get(`/app/p${i}`);
      batch += 'POST /app/body HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\nok' + get('/app/last');
      assert.ok(batch.length > 64 * 1024);
      client.write(batch);
      const text = await client.until((t) => t.includes('"url":"/last"') && hasWholeResponse(t.slice(t.lastIndexOf('HTTP/1.1'))), 30_000);
      const urls = [...text.matchAll(/"url":"([^"]+)"/g)].map((m) => m[1]);
      assert.deepEqual(urls, ['/slow', ...Array.from({ length: plain }, (_, i) => `/p${i}`), '/body', '/last']);
    } finally {
      client.destroy();
    }
  });
});

describe('the HTTP/1.1 front lets no ended connection linger unbounded', () => {
  // An ended connection with bytes still queued for a client that reads nothing: what a client
  // that read none of its earlier answers leaves behind. Here the queue is filled directly.
  const start = async (sendTimeoutMs: number) => {
    const front = new Http1Front({
      router: { serve: () => false },
      fallback: { take: () => undefined, on: () => undefined },
      maxRequestHeaders: 100,
      headerTimeoutMs: 500,
      keepAliveTimeoutMs: 65_000,
      sendTimeoutMs,
    });
    let serverSide: Socket | undefined;
    const server = createNetServer({ allowHalfOpen: true }, (socket: Socket) => {
      serverSide = socket;
      socket.write(Buffer.alloc(32 * 1024 * 1024));
      front.accept(socket);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
    client.on('error', () => undefined);
    client.pause();
    await new Promise<void>((r) => client.once('connect', () => r()));
    while (serverSide === undefined) await sleep(10);
    const closed = new Promise<void>((r) => serverSide!.once('close', () => r()));
    return { front, server, client, closed };
  };
  const within = (p: Promise<void>, ms: number) => Promise.race([p.then(() => true), sleep(ms).then(() => false)]);

  it('one whose client reads nothing is cut after the send bound', async () => {
    const { front, server, client, closed } = await start(1_000);
    try {
      // The header timeout (0.5 s) ends it; the send bound (1 s) cuts it.
      assert.ok(await within(closed, 8_000), 'the ended socket was never closed');
    } finally {
      client.destroy();
      front.closeAll();
      server.close();
    }
  });

  it('closeAll cuts one still lingering at once (shutdown is bounded)', async () => {
    const { front, server, client, closed } = await start(600_000);
    try {
      await sleep(1_500); // past the header timeout: ended, lingering
      front.closeAll();
      assert.ok(await within(closed, 3_000), 'closeAll left the ended socket open');
    } finally {
      client.destroy();
      server.close();
    }
  });
});

describe('the HTTP/1.1 front relays careless apps as Node does', () => {
  // Each app answer, by the path asked, then the app closes (so the pool never reuses a raw app).
  const answers: Record<string, string> = {
    '/interim': 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    '/head-length': 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n',
    '/no-content-body': 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello',
    '/not-modified-body': 'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    '/trailers': 'HTTP/1.1 200 OK\r\nTrailer: X-T\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n',
    '/until-close': 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the close',
    '/cookies': 'HTTP/1.1 200 OK\r\nSet-Cookie: a=1; Path=/\r\nSet-Cookie: b=2; HttpOnly\r\nX-Request-Id: the-apps-own\r\nDate: Tue, 01 Jan 2030 00:00:00 GMT\r\nContent-Length: 0\r\n\r\n',
    '/obs-text': 'HTTP/1.1 200 \xc3\xa7a va\r\nX-Name: caf\xc3\xa9 \xff\r\nContent-Length: 1\r\n\r\n.',
    '/connection-named': 'HTTP/1.1 200 OK\r\nConnection: X-Secret\r\nX-Secret: 1\r\nKeep-Alive: timeout=5\r\nContent-Length: 1\r\n\r\n.',
  };
  let app: Awaited<ReturnType<typeof startRawApp>>;
  let proxy: ProxyServer;
  let port = 0;
  const records: RequestRecord[] = [];

  const startRawApp = async () => {
    const server = createNetServer((socket) => {
      socket.on('error', () => undefined);
      let head = '';
      socket.on('data', (chunk: Buffer) => {
        head += chunk.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        const path = head.slice(head.indexOf(' ') + 1, head.indexOf(' ', head.indexOf(' ') + 1));
        socket.end(Buffer.from(answers[path] ?? 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n', 'latin1'));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return server;
  };

  before(async () => {
    app = await startRawApp();
    proxy = new ProxyServer({
      routes: new RouteTable([{ app: 'raw', routes: [{ path: '/', stripPrefix: false }] }]),
      upstreams: new StaticUpstreams({ raw: { host: '127.0.0.1', port: (app.address() as AddressInfo).port } }),
      logger: pino({ level: 'silent' }),
      onRequestDone: (record) => records.push(record),
    });
    port = (await proxy.listen('127.0.0.1', 0)).port;
  });

  after(async () => {
    await proxy.close(500);
    await new Promise<void>((r) => app.close(() => r()));
  });

  /** One request and, on the same connection, a second: both read by Node's own client parser. */
  const exchange = async (method: string, path: string, viaNode: boolean) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // Two Accept lines: not plain, so Node's server serves it (the reference).
      const headers: Record<string, string[]> = viaNode ? { accept: ['text/plain', 'text/html'] } : {};
      const one = await fetchOnce(port, agent, method, path, headers);
      const two = await fetchOnce(port, agent, 'GET', '/cookies', {});
      return { one, two };
    } finally {
      agent.destroy();
    }
  };

  for (const [method, path] of [
    ['GET', '/interim'],
    ['HEAD', '/head-length'],
    ['GET', '/no-content-body'],
    ['GET', '/not-modified-body'],
    ['GET', '/trailers'],
    ['GET', '/until-close'],
    ['GET', '/cookies'],
    ['GET', '/obs-text'],
    ['GET', '/connection-named'],
  ] as const) {
    it(`${method} ${path}: the same answer as Node's server gives, and the connection serves the next request`, async () => {
      const served = proxy.frontRequests;
      const fast = await exchange(method, path, false);
      assert.equal(proxy.frontRequests, served + 2, 'the front served both');
      const full = await exchange(method, path, true);
      assert.deepEqual(fast.one, full.one);
      assert.equal(fast.two.status, 200);
      assert.deepEqual(fast.two.headers.filter(([n]) => n === 'set-cookie'), [
        ['set-cookie', 'a=1; Path=/'],
        ['set-cookie', 'b=2; HttpOnly'],
      ]);
      const record = records.filter((r) => r.path === path).at(-1)!;
      assert.equal(record.status, fast.one.status);
      assert.equal(record.bytesOut, method === 'HEAD' ? 0 : Buffer.byteLength(fast.one.body, 'latin1'));
    });
  }
});

/** Status, reason, headers (berth's per-request ones left out, names lower-cased) and body of one response. */
async function fetchOnce(port: number, agent: Agent, method: string, path: string, headers: Record<string, string | string[]>) {
  return await new Promise<{ status: number; reason: string; headers: Array<[string, string]>; body: string }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = res.rawHeaders;
        const list: Array<[string, string]> = [];
        for (let i = 0; i < raw.length; i += 2) {
          const name = raw[i]!.toLowerCase();
          if (name === 'date' && raw[i + 1] !== 'Tue, 01 Jan 2030 00:00:00 GMT') continue;
          if (name === 'x-request-id' && raw[i + 1] !== 'the-apps-own') continue;
          if (name === 'connection' || name === 'keep-alive') continue;
          list.push([name, raw[i + 1]!]);
        }
        list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
        resolve({ status: res.statusCode!, reason: res.statusMessage!, headers: list, body: Buffer.concat(chunks).toString('latin1') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the HTTP/1.1 front: connection cap, shutdown, aborted exchanges', () => {
  let app: Server;
  let appPort = 0;
  const records: RequestRecord[] = [];
  /** The paths the app was sent, as it read them. */
  const asked: string[] = [];

  before(async () => {
    app = createServer((req, res) => {
      const url = req.url ?? '/';
      asked.push(url);
      req.resume();
      req.on('end', () => {
        if (url.startsWith('/big')) {
          res.writeHead(200, { 'content-length': 32 * 1024 * 1024 });
          res.end(Buffer.alloc(32 * 1024 * 1024, 0x61));
          return;
        }
        const body = JSON.stringify({ method: req.method, url });
        setTimeout(() => res.end(body), url.startsWith('/slow') ? 400 : 0);
      });
    });
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    appPort = (app.address() as AddressInfo).port;
  });

  after(async () => {
    app.closeAllConnections();
    await new Promise<void>((r) => app.close(() => r()));
  });

  const start = async (maxConnections?: number, clientSendMs?: number) => {
    const proxy = new ProxyServer({
      timeouts: clientSendMs === undefined ? undefined : { clientSendMs },
      routes: new RouteTable([{ app: 'app', routes: [{ path: '/app/', stripPrefix: true }] }]),
      upstreams: new StaticUpstreams({ app: { host: '127.0.0.1', port: appPort } }),
      logger: pino({ level: 'silent' }),
      maxConnections,
      onRequestDone: (record) => records.push(record),
    });
    return { proxy, port: (await proxy.listen('127.0.0.1', 0)).port };
  };
  const post = (path: string) => `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\nok`;
  const answered = (n: number) => (t: string) => statuses(t).length === n && t.endsWith('}');

  it("the cap counts the front's connections and Node's alike, refuses past it, and every connection closed is given back", async () => {
    const { proxy, port } = await start(8);
    const clients: RawClient[] = [];
    try {
      for (let i = 0; i < 8; i++) {
        const client = await RawClient.open(port);
        clients.push(client);
        // Half served by the front and idle there, half handed to Node's server and idle there.
        client.write(i % 2 === 0 ? get(`/app/front${i}`) : post(`/app/node${i}`));
        await client.until(answered(1));
      }
      assert.equal(proxy.openConnections, 8);
      const refused = await RawClient.open(port);
      const text = await refused.untilClosed(3_000);
      assert.match(text, /^HTTP\/1\.1 503 /);
      for (const client of clients.splice(0)) client.destroy();
      for (let waited = 0; (proxy.openConnections as number) !== 0 && waited < 3_000; waited += 50) await sleep(50);
      assert.equal(proxy.openConnections, 0, 'a closed connection was not given back');
      const again = await RawClient.open(port);
      clients.push(again);
      again.write(get('/app/again'));
      assert.deepEqual(statuses(await again.until(answered(1))), [200]);
    } finally {
      for (const client of clients) client.destroy();
      await proxy.close(500);
    }
  });

  it('shutdown: idle connections (front and Node) close at once, busy ones (front and Node) get their answer, in bounded time', async () => {
    const { proxy, port } = await start();
    const idleFront = await RawClient.open(port);
    const idleNode = await RawClient.open(port);
    const busyFront = await RawClient.open(port);
    const busyNode = await RawClient.open(port);
    const all = [idleFront, idleNode, busyFront, busyNode];
    try {
      idleFront.write(get('/app/i'));
      idleNode.write(post('/app/i'));
      await Promise.all([idleFront.until(answered(1)), idleNode.until(answered(1))]);
      busyFront.write(get('/app/slow-front'));
      busyNode.write(post('/app/slow-node'));
      // Closed once both busy requests reached the app, not after a fixed 100 ms: on a loaded machine the proxy
      // may not have read them by then, and a connection whose request it has not read is idle, closed at once.
      await waitFor('both busy requests at the app', () => asked.includes('/slow-front') && asked.includes('/slow-node'), { timeoutMs: 5_000 });
      const began = performance.now();
      const closing = proxy.close(10_000);
      await Promise.all([idleFront.untilClosed(2_000), idleNode.untilClosed(2_000)]);
      const [front, node] = await Promise.all([busyFront.untilClosed(5_000), busyNode.untilClosed(5_000)]);
      assert.deepEqual(statuses(front), [200]);
      assert.match(front, /"url":"\/slow-front"/);
      assert.deepEqual(statuses(node), [200]);
      assert.match(node, /"url":"\/slow-node"/);
      await closing;
      assert.ok(performance.now() - began < 8_000, 'shutdown waited for the grace period');
    } finally {
      for (const client of all) client.destroy();
      await proxy.close(100);
    }
  });

  it('a client that reads nothing of a large answer is cut after the send bound; the exchange is recorded once', async () => {
    const { proxy, port } = await start(undefined, 1_000);
    const client = await RawClient.open(port);
    try {
      client.socket.pause();
      client.write(get('/app/big'));
      const began = performance.now();
      // Polled: the accept comes in a later poll, which a fixed 300 ms may not reach on a loaded machine.
      await waitFor('the connection counted', () => proxy.openConnections === 1, { timeoutMs: 5_000 }).catch(() => undefined);
      assert.equal(proxy.openConnections, 1);
      // The gateway's side closes (a paused client would not see its FIN behind the unread bytes).
      for (let waited = 0; (proxy.openConnections as number) !== 0 && waited < 8_000; waited += 100) await sleep(100);
      assert.equal(proxy.openConnections as number, 0, 'the client that read nothing is still connected');
      assert.ok(performance.now() - began > 900, 'cut before the send bound');
      await waitFor('the record of /app/big', () => records.some((r) => r.path === '/app/big'), { timeoutMs: 5_000 }).catch(() => undefined);
      await sleep(100);
      const mine = records.filter((r) => r.path === '/app/big');
      assert.equal(mine.length, 1);
      assert.equal(mine[0]!.status, 200);
      assert.ok(mine[0]!.bytesOut > 0 && mine[0]!.bytesOut < 32 * 1024 * 1024, String(mine[0]!.bytesOut));
    } finally {
      client.destroy();
      await proxy.close(500);
    }
  });

  it('a request whose client goes away before the answer is recorded once, with no status', async () => {
    const { proxy, port } = await start();
    try {
      const client = await RawClient.open(port);
      client.write(get('/app/slow-abort'));
      // Reset once the app has the request (it answers 400 ms later), not after a fixed 100 ms: on a loaded machine
      // the proxy may not have read it by then, and there would be no exchange to record.
      await waitFor('the request at the app', () => asked.includes('/slow-abort'), { timeoutMs: 5_000 });
      client.reset();
      // Polled for the record (a fixed 800 ms on a loaded machine may not reach it), then a while longer for a second one.
      await waitFor('the record of /app/slow-abort', () => records.some((r) => r.path === '/app/slow-abort'), { timeoutMs: 5_000 }).catch(() => undefined);
      await sleep(300);
      assert.deepEqual(records.filter((r) => r.path === '/app/slow-abort').map((r) => r.status), [0]);
      assert.equal(proxy.frontRequests, 1);
    } finally {
      await proxy.close(500);
    }
  });
});

describe('the HTTP/1.1 front: sticky cookies and activity across retries and replays', () => {
  // Two instances of one app: `dead` refuses connections, `live` answers. App `retry` is sent to
  // `dead` first (a sticky pin), app `gone` has only `dead`.
  class TwoInstances implements UpstreamSource {
    active = 0;
    readonly asked: string[] = [];
    constructor(private readonly dead: Upstream, private readonly live: Upstream) {}
    admitReady(app: string, _req: unknown, exclude?: string): Admitted | undefined {
      this.asked.push(`${app}${exclude ? ` -${exclude}` : ''}`);
      if (exclude === undefined) return { upstream: this.dead, setCookie: 'berth_web=dead; Path=/' };
      return app === 'retry' ? { upstream: this.live, setCookie: 'berth_web=live; Path=/' } : undefined;
    }
    admit(app: string, _req: unknown, options?: AdmitOptions): Admission {
      if (options?.exclude !== undefined) return { kind: 'fail', error: new NoOtherInstanceError(app, options.exclude) };
      return { kind: 'ready', upstream: app === 'retry' ? this.live : this.dead, setCookie: undefined };
    }
    began(): void {
      this.active++;
    }
    ended(): void {
      this.active--;
    }
    publicStatus(): PublicStatus {
      return { state: 'running', ready: true };
    }
  }
  let app: Server;
  let source: TwoInstances;
  let proxy: ProxyServer;
  let port = 0;
  const records: RequestRecord[] = [];

  before(async () => {
    app = createServer((req, res) => res.end(`live ${req.url}`));
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    const deadPort = await freePort();
    const at = (instanceId: string, p: number): Upstream => ({ app: 'web', instanceId, instanceName: instanceId, origin: `http://127.0.0.1:${p}`, host: '127.0.0.1', port: p, inFlight: 0, failures: 0 });
    source = new TwoInstances(at('dead', deadPort), at('live', (app.address() as AddressInfo).port));
    proxy = new ProxyServer({
      routes: new RouteTable([
        { app: 'retry', routes: [{ path: '/retry/', stripPrefix: true }] },
        { app: 'gone', routes: [{ path: '/gone/', stripPrefix: true }] },
      ]),
      upstreams: source,
      logger: pino({ level: 'silent' }),
      onRequestDone: (record) => records.push(record),
    });
    port = (await proxy.listen('127.0.0.1', 0)).port;
  });

  after(async () => {
    await proxy.close(500);
    await new Promise<void>((r) => app.close(() => r()));
  });

  it('a GET whose pinned instance refused is sent to the other: the client is pinned to the one that answered, only', async () => {
    const client = await RawClient.open(port);
    try {
      client.write(get('/retry/a'));
      const text = await client.until((t) => t.endsWith('live /a'));
      assert.deepEqual(statuses(text), [200]);
      assert.deepEqual([...text.matchAll(/\r\nset-cookie: ([^\r]*)/g)].map((m) => m[1]), ['berth_web=live; Path=/']);
      assert.deepEqual(source.asked.slice(-2), ['retry', 'retry -dead']);
      // Polled: the record comes after the answer, in a later turn a fixed 50 ms may not reach on a loaded machine.
      await waitFor('the record of /retry/a', () => records.at(-1)?.path === '/retry/a', { timeoutMs: 5_000 }).catch(() => undefined);
      const record = records.at(-1)!;
      assert.deepEqual([record.path, record.status, record.instance], ['/retry/a', 200, 'live']);
    } finally {
      client.destroy();
    }
  });

  it('every request begun is ended once, whichever way it went (served, retried, replayed through Node, refused, cut)', async () => {
    const client = await RawClient.open(port);
    const from = records.length;
    try {
      // retried on the fast path; replayed through Node and answered 502 there; a POST is never resent (502 here).
      client.write(get('/retry/b') + get('/gone/c') + 'POST /gone/d HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n' + get('/retry/e'));
      const text = await client.until((t) => t.endsWith('live /e'));
      assert.deepEqual(statuses(text), [200, 502, 502, 200]);
      const cut = await RawClient.open(port);
      cut.write(get('/retry/f'));
      cut.reset();
      for (let waited = 0; source.active !== 0 && waited < 3_000; waited += 50) await sleep(50);
      assert.equal(source.active, 0, 'activity was left begun');
      // Node's server handles pipelined requests side by side: their records may come in any order.
      assert.deepEqual(
        records
          .slice(from)
          .filter((r) => r.path !== '/retry/f')
          .map((r) => [r.path, r.status])
          .sort(),
        [
          ['/gone/c', 502],
          ['/gone/d', 502],
          ['/retry/b', 200],
          ['/retry/e', 200],
        ],
      );
    } finally {
      client.destroy();
    }
  });
});
