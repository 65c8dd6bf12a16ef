// Misbehaving apps: raw TCP servers in this process that reset, drop, stall
// mid-way and send malformed or oversized responses, behind berth's ProxyServer
// running in a child process (so a crash is seen as an exit). Each case expects
// a well-formed 502 (or a clean close once a response has begun) and the proxy
// still serving (issue 9, what must hold 1 and 3).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { violation, type Expect } from '../support/expect-outcome.js';
import { ProxyProcess } from '../support/proxy-process.js';
import { rawExchange, sleep, wsHandshake, type RawOutcome, type Step } from '../support/raw-http.js';
import { RawUpstream, type UpstreamBehaviour } from '../support/raw-upstream.js';

interface UpstreamCase {
  name: string;
  behaviour: UpstreamBehaviour;
  /** The client's request; default a GET. */
  request?: (path: string) => Step[];
  expect: Expect;
  check?: (o: RawOutcome, upstream: RawUpstream) => string | undefined;
  responses?: number;
  /** How long the client waits for the responses or a close; default 5 s. */
  timeoutMs?: number;
}

const ok = (s: Socket, body = 'fine') => s.end(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
const BAD_GATEWAY: Expect = { statuses: [502] };
/** A body that breaks off: 502 if nothing was sent yet, else the head and a close before the end (or a close alone). */
const CUT_OFF: Expect = { statuses: [200, 502], close: 'allowed' };
/** Once a response has begun, a failure can only be told by closing the connection before its end. */
const cutOff = (o: RawOutcome) => {
  const r = o.responses[0];
  if (!r) return undefined;
  if (r.status === 502) return undefined;
  if (r.complete) return `a broken upstream response was relayed as complete (${r.status}, ${r.body.length} bytes)`;
  return o.closed ? undefined : 'the cut-off response was not ended by closing the connection';
};
const smallPost = (method: string) => (path: string): Step[] => [`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"a":"bcd"}`];

const cases: UpstreamCase[] = [
  { name: 'resets before answering', behaviour: (s) => s.resetAndDestroy(), expect: BAD_GATEWAY },
  { name: 'closes before answering', behaviour: (s) => s.end(), expect: BAD_GATEWAY },
  { name: 'closes mid-headers', behaviour: (s) => s.end('HTTP/1.1 200 OK\r\nContent-Ty'), expect: BAD_GATEWAY },
  { name: 'resets mid-headers', behaviour: (s) => { s.write('HTTP/1.1 200 OK\r\nContent-Ty'); setTimeout(() => s.resetAndDestroy(), 20); }, expect: BAD_GATEWAY },
  { name: 'malformed status line (4-digit status)', behaviour: (s) => s.end('HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n'), expect: BAD_GATEWAY },
  { name: 'status line of another protocol', behaviour: (s) => s.end('SSH-2.0-OpenSSH_9.6\r\n\r\n'), expect: BAD_GATEWAY },
  // RFC 9110 §15: values outside 100..599 are invalid.
  { name: 'status 600', behaviour: (s) => s.end('HTTP/1.1 600 Weird\r\nContent-Length: 0\r\n\r\n'), expect: BAD_GATEWAY },
  { name: 'header line without a colon', behaviour: (s) => s.end('HTTP/1.1 200 OK\r\nBad Header\r\nContent-Length: 2\r\n\r\nok'), expect: BAD_GATEWAY },
  { name: 'NUL in a header value', behaviour: (s) => s.end('HTTP/1.1 200 OK\r\nX-Nul: a\0b\r\nContent-Length: 2\r\n\r\nok'), expect: BAD_GATEWAY },
  { name: 'bare CR in a header value', behaviour: (s) => s.end('HTTP/1.1 200 OK\r\nX-Cr: a\rb\r\nContent-Length: 2\r\n\r\nok'), expect: BAD_GATEWAY },
  { name: 'oversized headers (70 KiB)', behaviour: (s) => s.end(`HTTP/1.1 200 OK\r\nX-Big: ${'b'.repeat(70 * 1024)}\r\nContent-Length: 2\r\n\r\nok`), expect: BAD_GATEWAY },
  { name: '5000 response headers', behaviour: (s) => s.end(`HTTP/1.1 200 OK\r\n${Array.from({ length: 5000 }, (_, i) => `X-H${i}: v\r\n`).join('')}Content-Length: 2\r\n\r\nok`), expect: { statuses: [200, 502] } },
  { name: 'two different Content-Length values', behaviour: (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\nokokok'), expect: BAD_GATEWAY },
  { name: 'Content-Length and Transfer-Encoding together', behaviour: (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n'), expect: BAD_GATEWAY },
  { name: 'Content-Length longer than the body, then close', behaviour: (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort'), expect: CUT_OFF, check: (o) => cutOff(o), responses: 0 },
  { name: 'resets mid-body', behaviour: (s) => { s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nten bytes!'); setTimeout(() => s.resetAndDestroy(), 50); }, expect: CUT_OFF, check: (o) => cutOff(o), responses: 0 },
  { name: 'chunked garbage', behaviour: (s) => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n'), expect: CUT_OFF, check: (o) => cutOff(o), responses: 0 },
  { name: 'chunked body cut before the last chunk', behaviour: (s) => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n'), expect: CUT_OFF, check: (o) => cutOff(o), responses: 0 },
  { name: 'answers 101 to a plain request', behaviour: (s) => { s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: Upgrade\r\n\r\n'); setTimeout(() => s.end('raw bytes of another protocol'), 20); }, expect: { statuses: [502], close: 'allowed' } },
  // RFC 9110 §15.2: a client must take unsolicited 1xx; berth's upstream client reads and drops them.
  { name: '100 Continue, then 200', behaviour: (s) => { s.write('HTTP/1.1 100 Continue\r\n\r\n'); setTimeout(() => ok(s), 20); }, expect: { statuses: [200] } },
  { name: 'HTTP/1.0 with the body until the close (busybox httpd)', behaviour: (s) => s.end('HTTP/1.0 404 Not Found\r\nContent-type: text/html\r\nConnection: close\r\n\r\n<HTML>nope</HTML>\n'), expect: { statuses: [404] }, check: (o) => (o.responses[0]?.body.toString() === '<HTML>nope</HTML>\n' ? undefined : `body ${JSON.stringify(o.responses[0]?.body.toString())}`) },
  { name: '103 Early Hints, then 200', behaviour: (s) => { s.write('HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n'); setTimeout(() => ok(s), 20); }, expect: { statuses: [200] } },
  { name: 'obs-fold in a header', behaviour: (s) => s.end('HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 2\r\n\r\nok'), expect: BAD_GATEWAY },
  { name: 'chunk size with 20 hex digits', behaviour: (s) => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\nx'), expect: CUT_OFF, check: (o) => cutOff(o), responses: 0 },
  { name: 'a body sent to a HEAD-less GET after Content-Length: 0 (extra bytes)', behaviour: (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n\r\nsmuggled'), expect: { statuses: [200] }, check: (o) => (o.responses.length > 1 || o.bytes.includes('smuggled') ? 'bytes after the response reached the client' : undefined) },
  { name: 'answers a body to a 204', behaviour: (s) => s.end('HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello'), expect: { statuses: [204, 502] } },
  { name: 'answers 413 early and closes during a 1 MiB upload', behaviour: (s) => s.end('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'), request: (p) => [`POST ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1048576\r\n\r\n`, Buffer.alloc(256 * 1024, 1), { pauseMs: 100 }, Buffer.alloc(256 * 1024, 1)], expect: { statuses: [413, 502], close: 'allowed' } },
  { name: 'resets while a small POST is handled (crash 3)', behaviour: (s) => s.resetAndDestroy(), request: smallPost('POST'), expect: BAD_GATEWAY },
  { name: 'closes while a small PUT is handled (crash 3)', behaviour: (s) => s.end(), request: smallPost('PUT'), expect: BAD_GATEWAY },
  { name: 'resets after a delay while a small POST is handled', behaviour: (s) => setTimeout(() => s.resetAndDestroy(), 50), request: smallPost('POST'), expect: BAD_GATEWAY },
  // Careless apps: each is relayed as the app meant it, never a 502.
  {
    name: 'headers named like Object members (constructor, toString)',
    behaviour: (s) => s.end('HTTP/1.1 200 OK\r\nConstructor: a\r\ntoString: b\r\nValueOf: c\r\nValueOf: d\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'),
    expect: { statuses: [200] },
    check: (o) => (o.responses[0]?.headers['constructor']?.[0] === 'a' && o.responses[0]?.headers['valueof']?.length === 2 ? undefined : `headers not relayed: ${o.responses[0]?.head}`),
  },
  {
    name: 'Content-Length repeated and as a list: relayed once',
    behaviour: (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'),
    expect: { statuses: [200] },
    check: (o) => (o.responses[0]?.headers['content-length']?.join('|') === '2' && o.responses[0]?.body.toString() === 'ok' ? undefined : `relayed head: ${o.responses[0]?.head}`),
  },
  // No framing: the body runs until the app closes (HTTP/1.0 style); that close is its end.
  { name: 'a body delimited by the close (HTTP/1.1)', behaviour: (s) => s.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the close'), expect: { statuses: [200] }, check: (o) => (o.responses[0]?.complete && o.responses[0].body.toString() === 'until the close' ? undefined : 'the close-delimited body was not relayed whole') },
  { name: 'an HTTP/1.0 response delimited by the close', behaviour: (s) => { s.write('HTTP/1.0 200 OK\r\n\r\nfirst '); setTimeout(() => s.end('second'), 30); }, expect: { statuses: [200] }, check: (o) => (o.responses[0]?.complete && o.responses[0].body.toString() === 'first second' ? undefined : 'the close-delimited body was not relayed whole') },
  { name: 'obs-text in the status text and a header value', behaviour: (s) => s.end(Buffer.from('HTTP/1.1 200 Ok\xe9\r\nX-Name: caf\xe9\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok', 'latin1')), expect: { statuses: [200, 502] }, check: (o) => (o.responses[0]?.status === 200 && o.responses[0].body.toString() !== 'ok' ? 'a relayed response lost its body' : undefined) },
  { name: 'Content-Length with leading zeros', behaviour: (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 0005\r\nConnection: close\r\n\r\nhello'), expect: { statuses: [200] }, check: (o) => (o.responses[0]?.body.toString() === 'hello' ? undefined : 'body not relayed whole') },
  { name: 'a 15-digit Content-Length, then close', behaviour: (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 999999999999999\r\n\r\nshort'), expect: CUT_OFF, check: (o) => cutOff(o), responses: 0 },
  { name: 'a 16-digit Content-Length', behaviour: (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 9999999999999999\r\n\r\nshort'), expect: BAD_GATEWAY },
  { name: '304 with Transfer-Encoding: chunked', behaviour: (s) => s.end('HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\nETag: "x"\r\nConnection: close\r\n\r\n'), expect: { statuses: [304] } },
  {
    name: 'a body sent to a HEAD request',
    behaviour: (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'),
    request: (p) => [`HEAD ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`],
    expect: { statuses: [200] },
    check: (o) => (o.bytes.includes('hello') ? 'the body of a HEAD response reached the client' : undefined),
    // The client does not know the response is bodiless, so it waits out the whole bound:
    // a relayed body would come with the head (the app sends both in one write), so 1.5 s
    // of watching is plenty.
    timeoutMs: 1500,
  },
  {
    name: '400 Set-Cookie fields',
    behaviour: (s) => s.end(`HTTP/1.1 200 OK\r\n${Array.from({ length: 400 }, (_, i) => `Set-Cookie: c${i}=v\r\n`).join('')}Content-Length: 2\r\nConnection: close\r\n\r\nok`),
    expect: { statuses: [200] },
    check: (o) => (o.responses[0]?.headers['set-cookie']?.length === 400 ? undefined : `${o.responses[0]?.headers['set-cookie']?.length} Set-Cookie fields relayed`),
  },
  {
    name: 'a response dripped one byte per write (chunked, with trailers)',
    behaviour: (s) => {
      const text = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n';
      let i = 0;
      const next = () => (i < text.length ? (s.write(text[i++]!), setTimeout(next, 1)) : s.end());
      next();
    },
    expect: { statuses: [200] },
    check: (o) => (o.responses[0]?.body.toString() === 'hello' && o.responses[0]?.complete ? undefined : 'the dripped response was not relayed whole'),
  },
  {
    // The connection the upload was cut on is not reused; the client's connection goes on.
    name: 'answers 413 (keep-alive) before reading an 8 MiB upload, then the client sends a GET',
    behaviour: (s, head) => s.write(head.startsWith('POST') ? 'HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n' : 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'),
    request: (p) => [`POST ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 8388608\r\n\r\n`, Buffer.alloc(1 << 20, 1), { pauseMs: 200 }, Buffer.alloc(7 << 20, 1), `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`],
    expect: { statuses: [413, 200], count: 2 },
    responses: 2,
  },
  { name: 'resets mid-body of a chunked POST', behaviour: (s) => s.resetAndDestroy(), request: (p) => [`POST ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`, { pauseMs: 100 }, '5\r\nworld\r\n0\r\n\r\n'], expect: { statuses: [502], close: 'allowed' } },

  // --- WebSocket upstreams
  {
    name: 'refuses a WebSocket handshake: the refusal is relayed and no tunnel opens',
    behaviour: (s) => s.write('HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\n\r\nno ws!'),
    request: (p) => [wsHandshake(p, '127.0.0.1'), { waitForHead: true, timeoutMs: 3000 }, { pauseMs: 50 }, 'SMUGGLED-AFTER-REFUSAL'],
    expect: { statuses: [403] },
    check: (_o, up) => (up.text.includes('SMUGGLED-AFTER-REFUSAL') ? 'bytes sent after a refused handshake reached the app' : undefined),
    responses: 0,
  },
  { name: 'resets during a WebSocket handshake', behaviour: (s) => s.resetAndDestroy(), request: (p) => [wsHandshake(p, '127.0.0.1')], expect: { statuses: [502], close: 'allowed' } },
  { name: 'answers a WebSocket handshake with garbage', behaviour: (s) => s.end('garbage\r\n\r\n'), request: (p) => [wsHandshake(p, '127.0.0.1')], expect: { statuses: [502], close: 'allowed' } },
  {
    name: 'answers 101, then resets',
    behaviour: (s) => {
      s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n');
      setTimeout(() => s.resetAndDestroy(), 50);
    },
    request: (p) => [wsHandshake(p, '127.0.0.1')],
    expect: { statuses: [101] },
    check: (o) => (o.closed ? undefined : 'the client connection stayed open after the app reset the tunnel'),
    responses: 0,
  },
];

describe('misbehaving upstreams behind the proxy', () => {
  let proxy: ProxyProcess;
  const upstreams = new Map<string, RawUpstream>();
  let healthy: RawUpstream;

  before(async () => {
    healthy = await RawUpstream.start((s) => ok(s, 'healthy'));
    const targets: Record<string, number> = { healthy: healthy.port };
    for (const [i, c] of cases.entries()) {
      const up = await RawUpstream.start(c.behaviour);
      upstreams.set(c.name, up);
      targets[`c${i}`] = up.port;
    }
    proxy = await ProxyProcess.start(targets);
  });

  after(async () => {
    await proxy?.stop();
    await healthy?.close();
    for (const up of upstreams.values()) await up.close();
  });

  /** The proxy is alive and a healthy upstream is served through it. */
  const assertServing = async (context: string) => {
    await proxy.assertAlive(context);
    const o = await rawExchange(proxy.port, ['GET /u/healthy/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'], { timeoutMs: 5000 });
    await proxy.assertAlive(context);
    assert.equal(o.responses[0]?.status, 200, `after ${context}: the healthy app was not served`);
  };

  for (const [i, c] of cases.entries()) {
    test(`upstream ${c.name}`, async () => {
      proxy = await proxy.respawnIfDead();
      const path = `/u/c${i}/x`;
      const steps = c.request?.(path) ?? [`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`];
      const outcome = await rawExchange(proxy.port, steps, { timeoutMs: c.timeoutMs ?? 5000, responses: c.responses });
      await sleep(50);
      await assertServing(c.name);
      const why = violation(outcome, c.expect) ?? c.check?.(outcome, upstreams.get(c.name)!);
      assert.equal(why, undefined, why);
    });
  }

  test('a response with trailing garbage does not poison the next request on the pooled connection', async () => {
    proxy = await proxy.respawnIfDead();
    // The app answers with a second response's bytes past its Content-Length (and keeps the connection a moment).
    const up = await RawUpstream.start((s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled');
      setTimeout(() => s.end(), 300);
    });
    const p2 = await ProxyProcess.start({ poison: up.port });
    try {
      const first = await rawExchange(p2.port, ['GET /u/poison/a HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n']);
      const second = await rawExchange(p2.port, ['GET /u/poison/b HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'], { timeoutMs: 5000 });
      await p2.assertAlive('trailing garbage');
      assert.equal(first.responses[0]?.status, 200);
      assert.notEqual(second.responses[0]?.body.toString(), 'smuggled', 'the next request got the bytes the app sent past its response');
      assert.equal(violation(second, { statuses: [200, 502], close: 'allowed' }), undefined, violation(second, { statuses: [200, 502], close: 'allowed' }));
    } finally {
      await p2.stop();
      await up.close();
    }
  });
});

describe('well-behaved apps behind the proxy: what undici relayed, the own client relays too', () => {
  let proxy: ProxyProcess;
  let app: Server;
  let releaseSecondEvent: () => void = () => undefined;

  before(async () => {
    app = createServer((req, res) => {
      const url = req.url ?? '/';
      if (url === '/sse') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.write('data: one\n\n');
        releaseSecondEvent = () => res.end('data: two\n\n');
      } else if (url === '/chunked') {
        res.write('a');
        setTimeout(() => res.write('b'), 20);
        setTimeout(() => res.end('c'), 40);
      } else if (url === '/big') {
        // 32 MiB, written with backpressure honoured.
        let left = 512;
        const chunk = Buffer.alloc(64 * 1024, 0x62);
        res.writeHead(200, { 'content-length': String(left * chunk.length) });
        const pump = () => {
          while (left > 0) {
            left--;
            if (!res.write(chunk)) return res.once('drain', pump);
          }
          res.end();
        };
        pump();
      } else if (url === '/upload') {
        let n = 0;
        req.on('data', (c: Buffer) => (n += c.length));
        req.on('end', () => res.end(String(n)));
      } else if (url === '/204') {
        res.writeHead(204).end();
      } else if (url === '/304') {
        res.writeHead(304, { etag: '"v1"' }).end();
      } else {
        res.writeHead(200, { 'content-length': '5', 'x-app': 'yes' }).end(req.method === 'HEAD' ? undefined : 'hello');
      }
    });
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    proxy = await ProxyProcess.start({ n: (app.address() as AddressInfo).port });
  });

  after(async () => {
    await proxy?.stop();
    app.closeAllConnections();
    await new Promise<void>((r) => app.close(() => r()));
  });

  const call = (method: string, path: string, body?: Buffer, onResponse?: (res: IncomingMessage) => void) =>
    new Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: proxy.port, method, path: `/u/n${path}`, agent: false, timeout: 20_000 }, (res) => {
        onResponse?.(res);
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.end(body);
    });

  test('SSE: each event reaches the client as the app flushes it', async () => {
    let first = '';
    const done = call('GET', '/sse', undefined, (res) => {
      res.once('data', (c: Buffer) => {
        first = c.toString();
        // The second event is written only once the first was relayed.
        releaseSecondEvent();
      });
    });
    const o = await done;
    assert.equal(o.status, 200);
    assert.equal(o.headers['content-type'], 'text/event-stream');
    assert.equal(first, 'data: one\n\n');
    assert.equal(o.body.toString(), 'data: one\n\ndata: two\n\n');
  });

  test('chunked streaming, 204, 304, HEAD', async () => {
    assert.equal((await call('GET', '/chunked')).body.toString(), 'abc');
    assert.equal((await call('GET', '/204')).status, 204);
    const notModified = await call('GET', '/304');
    assert.equal(notModified.status, 304);
    assert.equal(notModified.headers.etag, '"v1"');
    const head = await call('HEAD', '/plain');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '5');
    assert.equal(head.body.length, 0);
    const get = await call('GET', '/plain');
    assert.equal(get.body.toString(), 'hello');
    assert.equal(get.headers['x-app'], 'yes');
  });

  test('a 32 MiB download read slowly, and an 8 MiB upload, arrive whole', async () => {
    const big = await call('GET', '/big', undefined, (res) => {
      // A slow reader: pauses now and then, so the proxy must hold the app back.
      let n = 0;
      res.on('data', () => {
        if (++n % 64 === 0) {
          res.pause();
          setTimeout(() => res.resume(), 20);
        }
      });
    });
    assert.equal(big.body.length, 32 * 1024 * 1024);
    const up = await call('POST', '/upload', Buffer.alloc(8 * 1024 * 1024, 1));
    assert.equal(up.body.toString(), String(8 * 1024 * 1024));
  });
});
