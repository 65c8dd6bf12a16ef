import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import { StaticUpstreams } from '../../src/proxy/static-upstreams.js';
import type { UpstreamSource } from '../../src/proxy/upstream.js';
import type { RequestRecord } from '../../src/store/store.js';
import { RawClient, hasWholeResponse } from '../support/raw-client.js';

/**
 * The response side of the proxy (app → berth → client) against careless and
 * hostile apps: tiny TCP servers writing exact bytes, every request on a
 * connection answered (so a kept-alive upstream connection is reused), both
 * by berth's own front (a plain GET) and by Node's server (a request with a
 * body). What the client receives and what the history records are compared
 * with what a correct proxy sends.
 */

/** What an app writes for each request head it reads (one per request, in order on its connection). */
type Answer = (socket: Socket, head: string) => void;

/** An app answering every request head it reads on a connection with `answer`. */
async function rawApp(answer: Answer): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    socket.on('data', (c: Buffer) => {
      buffered += c.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
        const head = buffered.slice(0, end);
        // A request body (Content-Length only, as the tests send) is skipped.
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.slice(end + 4 + length);
        answer(socket, head);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const pathOf = (head: string) => head.slice(head.indexOf(' ') + 1, head.indexOf(' HTTP/'));

/** Answers by the request's path, so one app serves many cases. */
const APP: Record<string, Answer> = {
  // A head and a broken chunked body in one write: nothing of the response has reached the client.
  '/bad-chunk': (s) => s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Case: bad-chunk\r\n\r\nzz\r\nhello\r\n'),
  // A chunk size written as a C literal.
  '/hex-prefix': (s) => s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x10\r\n0123456789abcdef\r\n0\r\n\r\n'),
  // Lines ended by a bare LF, the connection kept: the head's CRLFCRLF never comes.
  '/bare-lf': (s) => s.write('HTTP/1.1 200 OK\nContent-Length: 2\n\nok'),
  '/bare-lf-last': (s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\n\r\nok'),
  // Bytes >= 0x80 where a digit should be: berth's 502 quotes them back.
  '/obs-text-status': (s) => s.write(Buffer.from('HTTP/1.1 2\xe90 OK\r\nContent-Length: 2\r\n\r\nok', 'latin1')),
  '/breaks-off': (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort'),
  '/no-content': (s) => s.write('HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nX-Case: 204\r\n\r\n'),
  '/ok': (s, head) => s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${pathOf(head).length}\r\n\r\n${pathOf(head)}`),
};

describe('the response side against careless and hostile apps', () => {
  let app: Awaited<ReturnType<typeof rawApp>>;
  let proxy: ProxyServer;
  let port = 0;
  const records: RequestRecord[] = [];
  const warnings: { msg?: string; requestId?: string; err?: string }[] = [];

  before(async () => {
    app = await rawApp((s, head) => (APP[pathOf(head).split('?')[0]!] ?? APP['/ok']!)(s, head));
    proxy = new ProxyServer({
      routes: new RouteTable([{ app: 'app', routes: [{ path: '/app/', stripPrefix: true }] }]),
      upstreams: new StaticUpstreams({ app: { host: '127.0.0.1', port: app.port } }),
      logger: pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line) as (typeof warnings)[number]) }),
      // The app's answer is waited for a minute, as by default: a test passes only by what the app sent.
      timeouts: { upstreamResponseMs: 60_000 },
      onRequestDone: (r) => records.push(r),
    });
    port = (await proxy.listen('127.0.0.1', 0)).port;
  });

  after(async () => {
    await proxy.close(500);
    await app.close();
  });

  const get = (path: string) => `GET /app${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
  const post = (path: string) => `POST /app${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\nhi`;
  const recordOf = async (method: string, path: string): Promise<RequestRecord> => {
    const deadline = performance.now() + 5000;
    for (;;) {
      const r = records.find((x) => x.method === method && x.path === `/app${path}`);
      if (r !== undefined) return r;
      if (performance.now() > deadline) throw new Error(`no history record for ${path}`);
      await new Promise((res) => setTimeout(res, 10));
    }
  };

  /** Sends `request`, expects one whole answer (`whole`: a body of its Content-Length), then an ordinary GET on the same connection, answered. */
  const answeredThenReused = async (request: string, path: string, whole = hasWholeResponse): Promise<string> => {
    const client = await RawClient.open(port);
    try {
      client.write(request);
      const text = await client.until(whole, 5000);
      assert.ok(whole(text), `no whole answer to ${path}, got ${JSON.stringify(text)}`);
      client.clear();
      client.write(get(`/ok?after${path}`));
      const next = await client.until(hasWholeResponse, 5000);
      assert.match(next, /^HTTP\/1\.1 200 /, 'the next request on the connection was served');
      assert.ok(next.endsWith(`/ok?after${path}`), `the next request got its own answer: ${JSON.stringify(next)}`);
      return text;
    } finally {
      client.destroy();
    }
  };

  for (const [how, request] of [
    ['berth\'s front (a GET)', get],
    ['Node\'s server (a POST)', post],
  ] as const) {
    for (const path of ['/bad-chunk', '/hex-prefix']) {
      it(`${how}: a head whose body breaks off in the same read is a 502 (nothing had reached the client), and the history says so: ${path}`, async () => {
        const text = await answeredThenReused(request(path), path);
        assert.match(text, /^HTTP\/1\.1 502 /, `answered ${JSON.stringify(text.slice(0, 200))}`);
        assert.doesNotMatch(text, /x-case/i, "none of the app's head went out");
        const record = await recordOf(request === get ? 'GET' : 'POST', path);
        assert.equal(record.status, 502);
        assert.equal(record.bytesOut, text.length - text.indexOf('\r\n\r\n') - 4);
      });
    }
    it(`${how}: a 204 reaches the client without the Content-Length its app gave it (RFC 9110 §8.6)`, async () => {
      const text = await answeredThenReused(request('/no-content'), '/no-content', (t) => t.includes('\r\n\r\n'));
      assert.match(text, /^HTTP\/1\.1 204 /);
      assert.match(text, /\r\nx-case: 204\r\n/i, "the app's own fields are relayed");
      assert.doesNotMatch(text, /content-length/i);
    });
    for (const accept of ['application/json', 'text/html']) {
      it(`${how}: berth's 502 quoting an app's bytes >= 0x80 (${accept}) is UTF-8 of its Content-Length, and the history counts those bytes`, async () => {
        const path = `/obs-text-status?${accept}`;
        const text = await answeredThenReused(request(path).replace('\r\n\r\n', `\r\nAccept: ${accept}\r\n\r\n`), path);
        assert.match(text, /^HTTP\/1\.1 502 /);
        const body = Buffer.from(text.slice(text.indexOf('\r\n\r\n') + 4), 'latin1');
        assert.equal(body.length, Number(/\r\ncontent-length: (\d+)/.exec(text)?.[1]));
        assert.ok(body.toString('utf8').includes('2\u00e90 OK'), `the app's bytes quoted as UTF-8: ${body.toString('utf8').slice(0, 300)}`);
        assert.equal((await recordOf(request === get ? 'GET' : 'POST', path)).bytesOut, body.length);
      });
    }
    it(`${how}: an app that breaks off mid-body: the client's connection is cut before the end, the history has what was sent, the log says why`, async () => {
      const client = await RawClient.open(port);
      try {
        client.write(request('/breaks-off'));
        const text = await client.untilClosed(5000);
        assert.match(text, /^HTTP\/1\.1 200 [^]*\r\n\r\nshort$/, 'the head and the bytes the app sent, then the close');
      } finally {
        client.destroy();
      }
      const record = await recordOf(request === get ? 'GET' : 'POST', '/breaks-off');
      assert.deepEqual([record.status, record.bytesOut], [200, 5]);
      const warning = warnings.find((w) => w.requestId === record.requestId);
      assert.equal(warning?.msg, 'upstream failed', 'the broken response is logged as the app\'s failure');
      assert.match(warning?.err ?? '', /closed the connection before its response was complete/);
    });
    for (const path of ['/bare-lf', '/bare-lf-last']) {
      it(`${how}: an app ending its head's lines with a bare LF gets a 502 at once, not a 504 after the response bound: ${path}`, async () => {
        const text = await answeredThenReused(request(path), path);
        assert.match(text, /^HTTP\/1\.1 502 /, `answered ${JSON.stringify(text.slice(0, 200))}`);
        assert.match(text, /bare LF/);
        assert.equal((await recordOf(request === get ? 'GET' : 'POST', path)).status, 502);
      });
    }
  }
});

describe('a sticky-session cookie beside the app\'s own Set-Cookie fields', () => {
  let app: Awaited<ReturnType<typeof rawApp>>;
  let proxy: ProxyServer;
  let port = 0;
  const PIN = 'berth_app=instance-1; Path=/; HttpOnly';

  before(async () => {
    app = await rawApp((s) => s.write('HTTP/1.1 200 OK\r\nSet-Cookie: session=abc; Path=/\r\nX-A: 1\r\nSet-Cookie: theme=dark\r\nContent-Length: 2\r\n\r\nok'));
    const fixed = new StaticUpstreams({ app: { host: '127.0.0.1', port: app.port } });
    // A balancer that pins every client, as the cookie policy does a new one: each answer carries its cookie.
    const pinning: UpstreamSource = {
      admit: (name, req, options) => {
        const a = fixed.admit(name, req, options);
        return a.kind === 'ready' ? { ...a, setCookie: PIN } : a;
      },
      admitReady: (name, req, exclude) => {
        const a = fixed.admitReady(name, req, exclude);
        return a && { ...a, setCookie: PIN };
      },
      publicStatus: (name) => fixed.publicStatus(name),
      began: () => undefined,
      ended: () => undefined,
    };
    proxy = new ProxyServer({ routes: new RouteTable([{ app: 'app', routes: [{ path: '/app/', stripPrefix: true }] }]), upstreams: pinning, logger: pino({ level: 'silent' }) });
    port = (await proxy.listen('127.0.0.1', 0)).port;
  });

  after(async () => {
    await proxy.close(500);
    await app.close();
  });

  for (const [how, request] of [
    ["berth's front (a GET)", 'GET /app/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'],
    ["Node's server (a POST)", 'POST /app/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\nhi'],
  ] as const) {
    it(`${how}: the client gets the app's cookies, in order, and berth's pin, each a line of its own`, async () => {
      const client = await RawClient.open(port);
      try {
        client.write(request);
        const text = await client.until(hasWholeResponse, 5000);
        const cookies = [...text.matchAll(/\r\nset-cookie: ([^\r]*)/gi)].map((m) => m[1]);
        assert.deepEqual(cookies, ['session=abc; Path=/', 'theme=dark', PIN]);
      } finally {
        client.destroy();
      }
    });
  }
});
