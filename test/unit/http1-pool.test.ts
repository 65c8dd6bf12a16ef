// berth's upstream client against real sockets: raw TCP servers in this process
// that answer, close, stall and reuse connections as apps do.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { Http1Pool } from '../../src/proxy/http1/upstream-pool.js';
import { UpstreamPools } from '../../src/proxy/upstream-pools.js';
import type { ExchangeRequest } from '../../src/proxy/http1/exchange.js';
import type { ResponseHeaders } from '../../src/proxy/http1/response-parser.js';
import { waitFor } from '../support/wait-for.js';

interface Outcome {
  status?: number;
  headers?: ResponseHeaders;
  body: string;
  error?: Error & { code?: string };
}

const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

/** A server that reads whole request heads (and Content-Length/chunked bodies) and answers each with `answer`. */
async function rawServer(answer: (socket: Socket, request: string, index: number) => void): Promise<{ port: number; connections: () => number; requests: string[] }> {
  let connections = 0;
  const requests: string[] = [];
  const server = createServer((socket) => {
    connections++;
    let buf = '';
    socket.on('error', () => undefined);
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.slice(0, end);
        const length = /content-length: (\d+)/i.exec(head);
        let total = end + 4 + (length ? Number(length[1]) : 0);
        if (/transfer-encoding: chunked/i.test(head)) {
          const last = buf.indexOf('0\r\n\r\n', end + 4);
          if (last < 0) return;
          total = last + 5;
        }
        if (buf.length < total) return;
        const request = buf.slice(0, total);
        buf = buf.slice(total);
        requests.push(request);
        answer(socket, request, requests.length - 1);
      }
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, connections: () => connections, requests };
}

function send(pool: Http1Pool, request: Partial<ExchangeRequest> = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Outcome = { body: '' };
    pool.dispatch(
      { method: 'GET', path: '/', headers: ['host', 'app.test'], body: null, headersTimeoutMs: 0, ...request },
      {
        onStart: () => undefined,
        onHead: (_ctl, status, headers) => {
          out.status = status;
          out.headers = headers;
        },
        onData: (_ctl, chunk) => {
          out.body += chunk.toString();
        },
        onEnd: () => resolve(out),
        onError: (err) => resolve({ ...out, error: err }),
      },
    );
  });
}

const ok = (s: Socket, body = 'ok', extra = '') => s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n${extra}\r\n${body}`);

test('keep-alive: sequential requests share one connection; the request head is as given', async () => {
  const app = await rawServer((s) => ok(s));
  const pool = new Http1Pool('127.0.0.1', app.port, { connectTimeoutMs: 1000 });
  for (let i = 0; i < 5; i++) assert.equal((await send(pool, { path: `/p${i}?q=1` })).status, 200);
  assert.equal(app.connections(), 1);
  assert.match(app.requests[3]!, /^GET \/p3\?q=1 HTTP\/1\.1\r\nhost: app\.test\r\n\r\n$/);
  pool.close();
});

test('no Host from the client: the upstream authority is sent; a body-less POST says content-length: 0', async () => {
  const app = await rawServer((s) => ok(s));
  const pool = new Http1Pool('127.0.0.1', app.port, { connectTimeoutMs: 1000 });
  await send(pool, { method: 'POST', headers: [] });
  assert.match(app.requests[0]!, new RegExp(`^POST / HTTP/1\\.1\\r\\nhost: 127\\.0\\.0\\.1:${app.port}\\r\\ncontent-length: 0\\r\\n\\r\\n$`));
  pool.close();
});

test('a streamed body without Content-Length goes chunked; with it, as is', async () => {
  const app = await rawServer((s) => ok(s));
  const pool = new Http1Pool('127.0.0.1', app.port, { connectTimeoutMs: 1000 });
  const body = new PassThrough();
  const pending = send(pool, { method: 'POST', body });
  body.write('hello ');
  setTimeout(() => body.end('world'), 20);
  assert.equal((await pending).status, 200);
  assert.match(app.requests[0]!, /transfer-encoding: chunked\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n$/);
  const fixed = new PassThrough();
  const second = send(pool, { method: 'PUT', headers: ['host', 'a', 'content-length', '3'], body: fixed });
  fixed.end('abc');
  assert.equal((await second).status, 200);
  assert.match(app.requests[1]!, /content-length: 3\r\n\r\nabc$/);
  pool.close();
});

test('connection: close, HTTP/1.0 and bytes after the response each cost the connection', async () => {
  const answers = [
    (s: Socket) => ok(s, 'a', 'Connection: close\r\n'),
    (s: Socket) => s.write('HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nb'),
    (s: Socket) => ok(s, 'c') && s.write('GARBAGE'),
    (s: Socket) => ok(s, 'd'),
  ];
  const app = await rawServer((s, _r, i) => answers[i]!(s));
  const pool = new Http1Pool('127.0.0.1', app.port, { connectTimeoutMs: 1000 });
  const bodies: string[] = [];
  for (let i = 0; i < 4; i++) bodies.push((await send(pool)).body);
  assert.deepEqual(bodies, ['a', 'b', 'c', 'd']);
  assert.equal(app.connections(), 4);
  pool.close();
});

test('a reused connection the app closed meanwhile: a GET is sent again on a fresh one, a POST fails', async () => {
  // The app answers, then closes each connection right after its first response (keep-alive race).
  const app = await rawServer((s) => {
    ok(s);
    setTimeout(() => s.destroy(), 10);
  });
  const pool = new Http1Pool('127.0.0.1', app.port, { connectTimeoutMs: 1000 });
  assert.equal((await send(pool)).status, 200);
  await new Promise((r) => setTimeout(r, 5));
  // Sent before the close is seen, or after: either way a GET is answered.
  for (let i = 0; i < 3; i++) {
    const o = await send(pool);
    assert.equal(o.status, 200, o.error?.message);
    await new Promise((r) => setTimeout(r, 30));
  }
  pool.close();
});

test('errors: refused, closed before answering, headers timeout, connect timeout', async () => {
  const closed = await rawServer((s) => s.destroy());
  const stall = await rawServer(() => undefined);
  const refusedPort = await new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
  const a = await send(new Http1Pool('127.0.0.1', refusedPort, { connectTimeoutMs: 1000 }));
  assert.equal(a.error?.code, 'ECONNREFUSED');
  const b = await send(new Http1Pool('127.0.0.1', closed.port, { connectTimeoutMs: 1000 }));
  assert.match(String(b.error?.code), /^(UPSTREAM_CLOSED|ECONNRESET)$/);
  const started = performance.now();
  const c = await send(new Http1Pool('127.0.0.1', stall.port, { connectTimeoutMs: 1000 }), { headersTimeoutMs: 300 });
  assert.equal(c.error?.code, 'UPSTREAM_HEADERS_TIMEOUT');
  assert.ok(performance.now() - started >= 290, 'not before its bound');
  // 192.0.2.0/24 is TEST-NET-1: never routed, so the connect can only time out (or be refused by the sandbox).
  const d = await send(new Http1Pool('192.0.2.1', 9, { connectTimeoutMs: 200 }));
  assert.match(String(d.error?.code), /^(UPSTREAM_CONNECT_TIMEOUT|ENETUNREACH|EHOSTUNREACH|ECONNREFUSED)$/);
});

test('beyond maxConnections requests queue and are all served', async () => {
  const app = await rawServer((s) => setTimeout(() => ok(s), 20));
  const pool = new Http1Pool('127.0.0.1', app.port, { connectTimeoutMs: 1000, maxConnections: 3 });
  const all = await Promise.all(Array.from({ length: 20 }, () => send(pool)));
  assert.deepEqual(all.map((o) => o.status), Array(20).fill(200));
  assert.ok(app.connections() <= 3, `${app.connections()} connections`);
  pool.close();
});

test('abort while queued or in flight: onError once, the next request is still served', async () => {
  const app = await rawServer((s) => setTimeout(() => ok(s), 50));
  const pool = new Http1Pool('127.0.0.1', app.port, { connectTimeoutMs: 1000, maxConnections: 1 });
  const errors: string[] = [];
  const aborting = (label: string) =>
    pool.dispatch(
      { method: 'GET', path: '/', headers: [], body: null, headersTimeoutMs: 0 },
      {
        onStart: (ctl) => setTimeout(() => ctl.abort(new Error(label)), 10),
        onHead: () => undefined,
        onData: () => undefined,
        onEnd: () => errors.push(`${label} ended`),
        onError: (err) => errors.push(err.message),
      },
    );
  aborting('in flight');
  aborting('queued');
  const o = await send(pool);
  assert.equal(o.status, 200);
  assert.deepEqual(errors.sort(), ['in flight', 'queued']);
  pool.close();
});

test('an app Keep-Alive hint shorter than the margin (or timeout=0): the connection is not kept', async () => {
  for (const hint of ['timeout=1', 'timeout=0', 'max=5, timeout=0']) {
    const app = await rawServer((s) => ok(s, 'x', `Keep-Alive: ${hint}\r\n`));
    const pool = new Http1Pool('127.0.0.1', app.port, { connectTimeoutMs: 1000 });
    await send(pool);
    await send(pool);
    assert.equal(app.connections(), 2, hint);
    pool.close();
  }
});

test('a reused connection the app closes on reading the next request: a GET is resent once, a POST is not', async () => {
  // Each connection: the first request is answered (keep-alive), the second makes the app close without a word.
  const perConnection = new WeakMap<Socket, number>();
  const app = await rawServer((s) => {
    const n = (perConnection.get(s) ?? 0) + 1;
    perConnection.set(s, n);
    if (n === 1) ok(s);
    else s.destroy();
  });
  const pool = new Http1Pool('127.0.0.1', app.port, { connectTimeoutMs: 1000 });
  assert.equal((await send(pool)).status, 200);
  const get = await send(pool);
  assert.equal(get.status, 200, get.error?.message);
  assert.equal(app.connections(), 2);
  const post = await send(pool, { method: 'POST', headers: ['host', 'a', 'content-length', '0'] });
  assert.match(String(post.error?.code), /^(UPSTREAM_CLOSED|ECONNRESET)$/);
  assert.equal(app.requests.filter((r) => r.startsWith('POST')).length, 1, 'the POST was sent once only');
  pool.close();
});

test('a burst over the connection cap with an app that drops some connections: every request settles', async () => {
  // Every third connection is dropped at its first request; the others answer and stay.
  let accepted = 0;
  const dropped = new WeakSet<Socket>();
  const app = await rawServer((s, _r) => {
    if (!dropped.has(s) && ++accepted % 3 === 0) {
      dropped.add(s);
      return s.destroy();
    }
    setTimeout(() => ok(s), 5);
  });
  const pool = new Http1Pool('127.0.0.1', app.port, { connectTimeoutMs: 1000, maxConnections: 2 });
  const all = await Promise.all(Array.from({ length: 30 }, () => send(pool)));
  assert.equal(all.length, 30);
  assert.ok(all.every((o) => o.status === 200 || o.error !== undefined));
  assert.ok(all.some((o) => o.status === 200));
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(pool.size <= 2, `${pool.size} connections open`);
  pool.close();
});

test('drain with a request in flight: it completes, then its connection closes', async () => {
  const app = await rawServer((s) => setTimeout(() => ok(s, 'late'), 100));
  const pool = new Http1Pool('127.0.0.1', app.port, { connectTimeoutMs: 1000 });
  const pending = send(pool);
  await new Promise((r) => setTimeout(r, 30));
  pool.drain();
  const o = await pending;
  assert.equal(o.body, 'late', o.error?.message);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(pool.size, 0);
});

test('drain: requests after it fail at once, idle connections close', async () => {
  const app = await rawServer((s) => ok(s));
  const pool = new Http1Pool('127.0.0.1', app.port, { connectTimeoutMs: 1000 });
  await send(pool);
  assert.equal(pool.size, 1);
  pool.drain();
  const o = await send(pool);
  assert.equal(o.error?.code, 'UPSTREAM_POOL_CLOSED');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(pool.size, 0);
});

test('idle connections are closed after the idle timeout; a busy pool keeps its connection', async () => {
  const app = await rawServer((s) => ok(s));
  // Sweeps every 300 ms: only a connection idle from one sweep to the next (300 ms) is closed, so a loaded machine's
  // pause of a couple of hundred ms between two uses is not taken for idleness (with 200 ms, a sweep every 100 ms, it was).
  const pool = new Http1Pool('127.0.0.1', app.port, { connectTimeoutMs: 1000, idleTimeoutMs: 600 });
  // In use every 50 ms, through at least two sweeps: never idle through a whole sweep.
  const busyUntil = performance.now() + 700;
  while (performance.now() < busyUntil) {
    await send(pool);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(app.connections(), 1);
  await waitFor('the idle connection closed', () => pool.size === 0, { timeoutMs: 5_000 });
  assert.equal(pool.size, 0, 'the idle connection was closed');
  assert.equal((await send(pool)).status, 200);
  pool.close();
});

test('the response headers relayed leave hop-by-hop fields and those Connection names out', async () => {
  const app = await rawServer((s) => s.write('HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Hop\r\nKeep-Alive: timeout=30\r\nX-Hop: secret\r\nX-End: kept\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'));
  const pool = new Http1Pool('127.0.0.1', app.port, { connectTimeoutMs: 1000 });
  const o = await send(pool);
  assert.deepEqual(o.headers, { 'x-end': 'kept' });
  pool.close();
});

test('a body without framing ends with the connection: HTTP/1.0, and HTTP/1.1 without a length', async () => {
  const answers = [
    (s: Socket) => s.end('HTTP/1.0 404 Not Found\r\nContent-type: text/html\r\nConnection: close\r\n\r\n<HTML>nope</HTML>\n'),
    (s: Socket) => {
      s.write('HTTP/1.1 200 OK\r\n\r\npart one, ');
      setTimeout(() => s.end('part two'), 30);
    },
  ];
  const app = await rawServer((s, _r, i) => answers[i]!(s));
  const pool = new Http1Pool('127.0.0.1', app.port, { connectTimeoutMs: 1000 });
  const first = await send(pool);
  assert.equal(first.status, 404);
  assert.equal(first.body, '<HTML>nope</HTML>\n');
  assert.equal(first.error, undefined);
  const second = await send(pool);
  assert.equal(second.status, 200);
  assert.equal(second.body, 'part one, part two');
  pool.close();
});

test('an app that answers while the request body still streams: the head bound is not armed after the head came', async () => {
  // Full duplex (an echo, a progress stream): the head and a first part go out at the request head.
  const server = createServer((s) => {
    s.on('error', () => undefined);
    let answered = false;
    s.on('data', () => {
      if (answered) return;
      answered = true;
      s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n');
      setTimeout(() => s.write('4\r\nlast\r\n0\r\n\r\n'), 900);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const pool = new Http1Pool('127.0.0.1', (server.address() as { port: number }).port, { connectTimeoutMs: 1000 });
  const body = new PassThrough();
  const pending = send(pool, { method: 'POST', body, headersTimeoutMs: 300 });
  body.write('up');
  setTimeout(() => body.end('load'), 50);
  const o = await pending;
  assert.equal(o.error, undefined, o.error?.message);
  assert.equal(o.body, 'firstlast');
  pool.close();
});

test('an app that neither reads a large request body nor answers: the head bound still ends the exchange', { timeout: 20_000 }, async () => {
  const server = createServer((s) => {
    s.on('error', () => undefined);
    s.pause();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const pool = new Http1Pool('127.0.0.1', (server.address() as { port: number }).port, { connectTimeoutMs: 1000 });
  // 256 MiB offered on demand: far more than the sockets' buffers hold.
  let left = 4096;
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const body = new Readable({ read() { this.push(left-- > 0 ? chunk : null); } });
  const o = await send(pool, { method: 'POST', headers: ['host', 'a', 'content-length', String(4096 * chunk.length)], body, headersTimeoutMs: 300 });
  assert.equal(o.error?.code, 'UPSTREAM_HEADERS_TIMEOUT', o.error?.message);
  assert.ok(left > 0, 'the whole body was read: the app did read it');
  pool.close();
});

test('a head dripped a byte at a time past the head bound: UPSTREAM_HEADERS_TIMEOUT, the connection closed', async () => {
  let closed = false;
  const app = await rawServer((s) => {
    const text = 'HTTP/1.1 200 OK\r\nX-Slow: 1234567890\r\nContent-Length: 0\r\n\r\n';
    let i = 0;
    const timer = setInterval(() => (i < text.length && !s.destroyed ? s.write(text[i++]!) : clearInterval(timer)), 40);
    s.on('close', () => {
      closed = true;
      clearInterval(timer);
    });
  });
  const pool = new Http1Pool('127.0.0.1', app.port, { connectTimeoutMs: 1000 });
  const o = await send(pool, { headersTimeoutMs: 300 });
  assert.equal(o.error?.code, 'UPSTREAM_HEADERS_TIMEOUT');
  // Polled: the app's side sees the close in a later poll, which a fixed 100 ms may not reach on a loaded machine.
  await waitFor('the app connection closed', () => closed, { timeoutMs: 5_000 });
  assert.ok(closed, 'the app connection was closed');
  assert.equal(pool.size, 0);
  pool.close();
});

test('aborted mid-download: onError once, the connection is closed and never reused', async () => {
  const app = await rawServer((s, request) => {
    if (request.includes('/big')) s.write(`HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n${'x'.repeat(1000)}`);
    else ok(s);
  });
  const pool = new Http1Pool('127.0.0.1', app.port, { connectTimeoutMs: 1000 });
  const events: string[] = [];
  await new Promise<void>((resolve) =>
    pool.dispatch(
      { method: 'GET', path: '/big', headers: [], body: null, headersTimeoutMs: 0 },
      {
        onStart: () => undefined,
        onHead: () => events.push('head'),
        onData: (ctl) => {
          events.push('data');
          ctl.abort(new Error('client gone'));
          ctl.abort(new Error('twice'));
        },
        onEnd: () => events.push('end'),
        onError: (err) => {
          events.push(`error ${err.message}`);
          setTimeout(resolve, 50);
        },
      },
    ),
  );
  assert.deepEqual(events.filter((e) => e !== 'data'), ['head', 'error client gone']);
  assert.equal(pool.size, 0);
  assert.equal((await send(pool)).body, 'ok');
  assert.equal(app.connections(), 2);
  pool.close();
});

test('close() during a body that runs until the close: the exchange fails, it is not relayed as complete', { timeout: 5000 }, async () => {
  const app = await rawServer((s) => s.write('HTTP/1.1 200 OK\r\n\r\npartial'));
  const pool = new Http1Pool('127.0.0.1', app.port, { connectTimeoutMs: 1000 });
  const pending = new Promise<Outcome>((resolve) => {
    const out: Outcome = { body: '' };
    pool.dispatch(
      { method: 'GET', path: '/', headers: [], body: null, headersTimeoutMs: 0 },
      {
        onStart: () => undefined,
        onHead: (_ctl, status) => (out.status = status),
        onData: () => {
          out.body = 'some';
          // The gateway stops while the body streams.
          pool.close();
        },
        onEnd: () => resolve(out),
        onError: (err) => resolve({ ...out, error: err }),
      },
    );
  });
  const o = await pending;
  assert.equal(o.status, 200);
  assert.equal(o.error?.code, 'UPSTREAM_POOL_CLOSED', 'the cut body was ended as if complete');
});

test('a body without framing ends with the app closing the connection (HTTP/1.0 style)', { timeout: 5000 }, async () => {
  const app = await rawServer((s, _r, i) => (i === 0 ? s.end('HTTP/1.1 200 OK\r\n\r\nwhole body') : s.end('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nfrom 1.0')));
  const pool = new Http1Pool('127.0.0.1', app.port, { connectTimeoutMs: 1000 });
  const a = await send(pool);
  assert.equal(a.error, undefined, a.error?.message);
  assert.equal(a.body, 'whole body');
  const b = await send(pool);
  assert.equal(b.body, 'from 1.0', b.error?.message);
  pool.close();
});

test('drain with requests queued over the cap: they are still served (as undici closed a pool), then every connection closes', async () => {
  const app = await rawServer((s) => setTimeout(() => ok(s), 30));
  const pool = new Http1Pool('127.0.0.1', app.port, { connectTimeoutMs: 1000, maxConnections: 1 });
  const pending = Promise.all(Array.from({ length: 4 }, () => send(pool)));
  pool.drain();
  const all = await pending;
  assert.deepEqual(all.map((o) => o.status ?? o.error?.code), [200, 200, 200, 200]);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(pool.size, 0);
  assert.equal((await send(pool)).error?.code, 'UPSTREAM_POOL_CLOSED');
});

test('pools that hold nothing are forgotten (each container start publishes a new port: a pool per start would pile up)', async () => {
  const server = await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
  const pools = new UpstreamPools(10_000, 60_000);
  try {
    // Ports of containers long gone: pools made, their connections long closed.
    for (let i = 0; i < 5; i++) pools.get(`http://127.0.0.1:${40_000 + i}`);
    const live = pools.get(`http://127.0.0.1:${server.port}`);
    assert.equal((await send(live)).status, 200);
    assert.equal(pools.size, 6);
    pools.forgetUnused();
    assert.equal(pools.size, 1, 'only the pool with a kept-alive connection is left');
    assert.equal(pools.get(`http://127.0.0.1:${server.port}`), live, 'and it is reused');
    assert.equal((await send(live)).status, 200);
    assert.equal(server.connections(), 1);
  } finally {
    await pools.close();
  }
});
