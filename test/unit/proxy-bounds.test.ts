import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { pino } from 'pino';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import { StaticUpstreams } from '../../src/proxy/static-upstreams.js';
import type { ProxyTimeouts } from '../../src/proxy/proxy-timeouts.js';
import type { AppTimeouts } from '../../src/spec/types.js';

/**
 * The proxy's bounds on waiting, with short timeouts and raw node:net clients:
 * a trickling body, a client that never reads, an app that never answers, a
 * connection flood. After each, the proxy must still serve.
 */

const SHORT: ProxyTimeouts = { clientHeaderMs: 300, clientBodyIdleMs: 300, clientSendMs: 300, upstreamConnectMs: 1_000, upstreamResponseMs: 400 };

let app: Server;
let appPort = 0;
let hang: NetServer;
let hangPort = 0;
const held: Socket[] = [];
/** Each upstream request's end: 'complete' (body read to its end) or 'aborted'. */
const upstreamEnds: string[] = [];
/** Set when the endless response's upstream side closes. */
let endlessClosed: (() => void) | undefined;

before(async () => {
  app = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/endless') return endless(res);
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('close', () => upstreamEnds.push(req.complete ? 'complete' : 'aborted'));
    req.on('end', () => res.end(JSON.stringify({ url: req.url, bytes })));
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  appPort = (app.address() as AddressInfo).port;
  // Accepts and never answers.
  hang = createNetServer((socket) => {
    held.push(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  hangPort = (hang.address() as AddressInfo).port;
});

after(async () => {
  for (const s of held) s.destroy();
  app.closeAllConnections();
  await new Promise<void>((r) => app.close(() => r()));
  await new Promise<void>((r) => hang.close(() => r()));
});

/** Writes 64 KiB chunks as fast as the proxy takes them, up to 512 MiB, until closed. */
function endless(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  const chunk = Buffer.alloc(65_536, 120);
  let sent = 0;
  res.on('close', () => endlessClosed?.());
  const pump = () => {
    while (!res.destroyed && sent < 512 * 2 ** 20) {
      sent += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

async function startProxy(options: { maxConnections?: number; timeouts?: Partial<ProxyTimeouts>; appTimeouts?: Record<string, AppTimeouts> } = {}): Promise<{ proxy: ProxyServer; port: number }> {
  const proxy = new ProxyServer({
    routes: new RouteTable([
      { app: 'echo', routes: [{ path: '/echo/', stripPrefix: true }] },
      { app: 'hang', routes: [{ path: '/hang/', stripPrefix: true }] },
      { app: 'hang-fast', routes: [{ path: '/hang-fast/', stripPrefix: true }] },
    ]),
    upstreams: new StaticUpstreams({
      echo: { host: '127.0.0.1', port: appPort },
      hang: { host: '127.0.0.1', port: hangPort },
      'hang-fast': { host: '127.0.0.1', port: hangPort },
    }),
    logger: pino({ level: 'silent' }),
    timeouts: { ...SHORT, ...options.timeouts },
    appTimeouts: (name) => options.appTimeouts?.[name],
    maxConnections: options.maxConnections,
  });
  const port = (await proxy.listen('127.0.0.1', 0)).port;
  return { proxy, port };
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, path: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A raw client: everything the server sends until it closes (or `limitMs` passes), and when it closed. */
function rawExchange(port: number, send: (socket: Socket) => void, limitMs: number): Promise<{ text: string; closedAfterMs: number | undefined }> {
  return new Promise((resolve) => {
    const began = performance.now();
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => (text += c));
    socket.on('error', () => undefined);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closedAfterMs: undefined });
    }, limitMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closedAfterMs: performance.now() - began });
    });
    socket.on('connect', () => send(socket));
  });
}

async function until(what: string, test: () => boolean, limitMs = 3_000): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!test()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('proxy bounds', () => {
  it('a request body that trickles gets 408, its connection closes and the upstream request is aborted', async () => {
    const { proxy, port } = await startProxy();
    try {
      upstreamEnds.length = 0;
      let timer: NodeJS.Timeout | undefined;
      const reply = await rawExchange(
        port,
        (socket) => {
          socket.write('POST /echo/up HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\nA');
          // 1 B/s: far slower than the 300 ms the body may stay silent.
          let sent = 1;
          timer = setInterval(() => {
            if (sent++ < 10 && !socket.destroyed) socket.write('B');
          }, 1_000);
        },
        5_000,
      );
      clearInterval(timer);
      assert.match(reply.text, /^HTTP\/1\.1 408 /);
      assert.match(reply.text, /connection: close/i);
      assert.match(reply.text, /client_body_timeout/);
      assert.ok(reply.closedAfterMs !== undefined && reply.closedAfterMs < 2_000, `closed after ${reply.closedAfterMs} ms`);
      await until('the upstream request to end', () => upstreamEnds.length > 0);
      assert.deepEqual(upstreamEnds, ['aborted']);
      assert.equal((await get(port, '/echo/ok')).status, 200, 'still serving');
    } finally {
      await proxy.close(100);
    }
  });

  it('a body that keeps moving is not cut, however long it takes in all', async () => {
    const { proxy, port } = await startProxy();
    try {
      upstreamEnds.length = 0;
      let timer: NodeJS.Timeout | undefined;
      const reply = await rawExchange(
        port,
        (socket) => {
          socket.write('POST /echo/up HTTP/1.1\r\nhost: x\r\ncontent-length: 8\r\nconnection: close\r\n\r\n');
          // 8 bytes, one every 100 ms: 800 ms in all, well past the 300 ms idle bound.
          let sent = 0;
          timer = setInterval(() => {
            if (sent++ < 8) socket.write('x');
          }, 100);
        },
        5_000,
      );
      clearInterval(timer);
      assert.match(reply.text, /^HTTP\/1\.1 200 /);
      assert.match(reply.text, /"bytes":8/);
    } finally {
      await proxy.close(100);
    }
  });

  it('a client that never reads a large response is cut off after the send timeout, and the upstream is released', async () => {
    const { proxy, port } = await startProxy();
    const socket = connect(port, '127.0.0.1');
    try {
      const upstreamClosed = new Promise<void>((r) => (endlessClosed = r));
      socket.on('error', () => undefined);
      const closed = new Promise<void>((r) => socket.on('close', () => r()));
      socket.on('connect', () => {
        socket.write('GET /echo/endless HTTP/1.1\r\nhost: x\r\n\r\n');
        socket.pause();
      });
      // A paused socket does not see its peer go; the upstream's side shows the proxy gave up.
      await Promise.race([upstreamClosed, new Promise((_, reject) => setTimeout(() => reject(new Error('upstream never released')), 5_000))]);
      // Reading again, the client finds what the kernel held, then the end of the connection.
      socket.resume();
      await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('client connection still open')), 3_000))]);
      assert.ok(socket.bytesRead < 512 * 2 ** 20, `read ${socket.bytesRead} bytes: the response was cut short`);
      assert.equal((await get(port, '/echo/ok')).status, 200, 'still serving');
    } finally {
      socket.destroy();
      endlessClosed = undefined;
      await proxy.close(100);
    }
  });

  it('an app that accepts and never answers gets 504 naming it after the response timeout; its own bound wins', async () => {
    // undici's header timer ticks about every half second: bounds far apart tell which one applied.
    const { proxy, port } = await startProxy({ timeouts: { upstreamResponseMs: 2_500 }, appTimeouts: { 'hang-fast': { responseMs: 150 } } });
    try {
      let began = performance.now();
      const slow = await get(port, '/hang/x');
      const slowMs = performance.now() - began;
      assert.equal(slow.status, 504);
      assert.match(JSON.parse(slow.body).detail, /^app hang did not answer within 2\.5 s$/);
      assert.ok(slowMs >= 2_400 && slowMs < 4_500, `answered after ${slowMs} ms`);
      began = performance.now();
      const fast = await get(port, '/hang-fast/x');
      const fastMs = performance.now() - began;
      assert.equal(fast.status, 504);
      assert.match(JSON.parse(fast.body).detail, /^app hang-fast did not answer within 0\.15 s$/);
      assert.ok(fastMs < 1_600, `answered after ${fastMs} ms`);
      assert.equal((await get(port, '/echo/ok')).status, 200, 'still serving');
    } finally {
      await proxy.close(100);
    }
  });

  it('a client that never finishes its headers is cut off after the header timeout', async () => {
    const { proxy, port } = await startProxy();
    try {
      const reply = await rawExchange(port, (socket) => socket.write('GET /echo/x HTTP/1.1\r\nhost: x\r\n'), 5_000);
      assert.ok(reply.closedAfterMs !== undefined && reply.closedAfterMs < 2_000, `closed after ${reply.closedAfterMs} ms`);
      assert.equal((await get(port, '/echo/ok')).status, 200, 'still serving');
    } finally {
      await proxy.close(100);
    }
  });

  it('past the connection cap a new connection gets a raw 503 and is closed; the first ones still work', async () => {
    const { proxy, port } = await startProxy({ maxConnections: 3 });
    const sockets: Socket[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const socket = connect(port, '127.0.0.1');
        socket.on('error', () => undefined);
        sockets.push(socket);
      }
      await until('three accepted connections', () => proxy.openConnections === 3);
      const refused = await rawExchange(port, (socket) => socket.write('GET /echo/x HTTP/1.1\r\nhost: x\r\n\r\n'), 3_000);
      assert.match(refused.text, /^HTTP\/1\.1 503 /);
      assert.match(refused.text, /retry-after: 1\r\n/);
      assert.match(refused.text, /connection: close\r\n/);
      assert.ok(refused.closedAfterMs !== undefined, 'the refused connection is closed');
      assert.equal(proxy.openConnections, 3);
      // One after another: one app's requests in flight take at most half the cap (proxy-app-share.test.ts).
      const answers: string[] = [];
      for (const [i, socket] of sockets.entries()) answers.push(await exchangeOn(socket, `/echo/n${i}`));
      for (const [i, text] of answers.entries()) assert.match(text, new RegExp(`^HTTP/1\\.1 200 [^]*"url":"/n${i}"`));
      for (const s of sockets) s.destroy();
      await until('the connections to close', () => proxy.openConnections === 0);
      assert.equal((await get(port, '/echo/ok')).status, 200, 'a new connection is accepted again under the cap');
    } finally {
      for (const s of sockets) s.destroy();
      await proxy.close(100);
    }
  });

  it('a failed accept (EMFILE) is not fatal: the listener goes on serving', async () => {
    const { proxy, port } = await startProxy();
    try {
      // The listening server is the proxy's own, which gives every connection to the front (Node's HTTP server never listens).
      const server = (proxy as unknown as { listener: Server }).listener;
      server.emit('error', Object.assign(new Error('accept EMFILE'), { code: 'EMFILE', syscall: 'accept' }));
      assert.equal((await get(port, '/echo/ok')).status, 200);
    } finally {
      await proxy.close(100);
    }
  });
});

/** One request on an open raw socket; resolves with the response once its JSON body is complete. */
function exchangeOn(socket: Socket, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no answer to ${path}`)), 3_000);
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => {
      text += c;
      if (text.endsWith('}')) {
        clearTimeout(timer);
        resolve(text);
      }
    });
    socket.write(`GET ${path} HTTP/1.1\r\nhost: x\r\n\r\n`);
  });
}
