import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { pino } from 'pino';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import { StaticUpstreams } from '../../src/proxy/static-upstreams.js';

/**
 * The upstream client reads into one buffer per connection (Node's `onread`) and
 * hands body chunks on as views of it. A chunk a slow client has not taken yet
 * must never be overwritten by the next read: bodies of distinct random bytes,
 * dripped in small writes across many reads, several per kept-alive upstream
 * connection, to a client that reads slowly, through the front and through
 * Node's server (a POST), with Content-Length and chunked, arrive intact.
 */
describe('upstream read buffer reuse', () => {
  const bodies = new Map<string, Buffer>();
  let app: Server;
  let proxy: ProxyServer;
  let port = 0;
  const sockets = new Set<Socket>();

  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

  before(async () => {
    app = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      let buffered = Buffer.alloc(0);
      socket.on('data', (c: Buffer) => {
        buffered = Buffer.concat([buffered, c]);
        for (;;) {
          const end = buffered.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buffered.subarray(0, end).toString('latin1');
          const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
          if (buffered.length < end + 4 + length) return;
          buffered = buffered.subarray(end + 4 + length);
          const path = head.split(' ')[1]!.replace(/^\/app/, '');
          void answer(socket, path);
        }
      });
    });
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    proxy = new ProxyServer({
      routes: new RouteTable([{ app: 'app', routes: [{ path: '/app/', stripPrefix: true }] }]),
      upstreams: new StaticUpstreams({ app: { host: '127.0.0.1', port: (app.address() as AddressInfo).port } }),
      logger: pino({ level: 'silent' }),
    });
    port = (await proxy.listen('127.0.0.1', 0)).port;
  });

  after(async () => {
    await proxy.close(500);
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => app.close(() => r()));
  });

  /** Answers `/<kind>/<n>` with body n in writes of a few KiB with pauses between them, so it spans many reads. */
  async function answer(socket: Socket, path: string): Promise<void> {
    const [, kind, id] = path.split('/');
    const body = bodies.get(id!)!;
    const chunked = kind === 'chunked';
    socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n${chunked ? 'transfer-encoding: chunked' : `content-length: ${body.length}`}\r\n\r\n`);
    for (let at = 0, step = 0; at < body.length; step++) {
      const n = Math.min(body.length - at, 1 + ((step * 7919) % 9000));
      const part = body.subarray(at, at + n);
      socket.write(chunked ? Buffer.concat([Buffer.from(`${n.toString(16)}\r\n`), part, Buffer.from('\r\n')]) : part);
      at += n;
      if (step % 16 === 0) await new Promise((r) => setImmediate(r));
    }
    if (chunked) socket.write('0\r\n\r\n');
  }

  /** Fetches through berth, reading slowly (paused now and then), and returns the body. */
  function fetchSlowly(agent: Agent, method: 'GET' | 'POST', path: string): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, agent, headers: method === 'POST' ? { 'content-length': 2 } : {} }, (res) => {
        assert.equal(res.statusCode, 200);
        const parts: Buffer[] = [];
        let n = 0;
        res.on('data', (c: Buffer) => {
          parts.push(c);
          // Slower than the app at first, so berth's writes to this client queue up.
          if (++n % 4 === 0 && n < 200) {
            res.pause();
            setTimeout(() => res.resume(), 5);
          }
        });
        res.on('end', () => resolve(Buffer.concat(parts)));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(method === 'POST' ? 'hi' : undefined);
    });
  }

  for (const kind of ['length', 'chunked'] as const) {
    for (const method of ['GET', 'POST'] as const) {
      it(`keeps every byte of ${kind} bodies to a slow client (${method}: ${method === 'GET' ? 'the front' : "Node's server"})`, async () => {
        const agent = new Agent({ keepAlive: true, maxSockets: 2 });
        try {
          const ids = Array.from({ length: 4 }, (_, i) => `${kind}-${method}-${i}`);
          for (const [i, id] of ids.entries()) bodies.set(id, randomBytes(i % 2 === 0 ? 6_000_000 : 90_000 + i));
          const got = await Promise.all(ids.map((id) => fetchSlowly(agent, method, `/app/${kind}/${id}`)));
          got.forEach((body, i) => {
            const want = bodies.get(ids[i]!)!;
            assert.equal(body.length, want.length, `${ids[i]}: length`);
            assert.equal(sha(body), sha(want), `${ids[i]}: the bytes`);
          });
        } finally {
          agent.destroy();
        }
      });
    }
  }
});
