import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect as http2Connect, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createSecureContext, type SecureContext } from 'node:tls';
import { pino } from 'pino';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import { StaticUpstreams } from '../../src/proxy/static-upstreams.js';
import type { UpstreamSource } from '../../src/proxy/upstream.js';
import { HttpsListener, MAX_CONCURRENT_STREAMS } from '../../src/tls/https-listener.js';
import { makeCa, makeLeaf } from '../support/openssl-certs.js';

/**
 * HTTP/2 clients that try to make one connection cost the gateway (and the
 * app behind it) more than a connection's worth: many concurrent streams
 * against a slow app, rapid reset (CVE-2023-44487) against a running and a
 * starting app, streams reset while the app is quiet, and TLS connections past
 * the cap, which must be said in the log once, not per connection.
 */
const WITHIN_MS = 15_000;

let dir = '';
let ca = '';
let context: SecureContext;
let app: Server;
let appPort = 0;
/** Requests the app holds now, and the most it held at once. */
let holding = 0;
let mostHeld = 0;
/** Requests the app was sent, all told. */
let appAsked = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-h2-floods-'));
  const authority = await makeCa(dir);
  ca = authority.pem;
  const leaf = await makeLeaf(dir, authority, 'leaf', ['a.test']);
  context = createSecureContext({ cert: await readFile(leaf.cert), key: await readFile(leaf.key) });
  app = createServer((req: IncomingMessage, res: ServerResponse) => {
    appAsked++;
    holding++;
    mostHeld = Math.max(mostHeld, holding);
    res.on('close', () => holding--);
    req.resume();
    // A long poll that never answers: only the gateway aborting it ends it.
    if (req.url === '/never') return;
    // Slow enough that streams pile up on the session while the app holds them.
    setTimeout(() => res.end('ok'), req.url === '/slow' ? 300 : 0);
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  appPort = (app.address() as AddressInfo).port;
});

after(async () => {
  app.closeAllConnections();
  await new Promise<void>((r) => app.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

const until = async (what: string, ok: () => boolean) => {
  const deadline = Date.now() + WITHIN_MS;
  while (!ok() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(ok(), what);
};

describe('HTTP/2 floods against the TLS listener', () => {
  let proxy: ProxyServer;
  let https: HttpsListener;
  let port = 0;
  const counts = { began: 0, ended: 0 };
  const sessions: ClientHttp2Session[] = [];
  const sockets: TLSSocket[] = [];
  const logLines: Array<{ msg?: string; level?: number; refused?: number }> = [];
  let held = 0;
  let startCold!: () => void;
  const coldStarted = new Promise<void>((resolve) => (startCold = resolve));

  before(async () => {
    const ready = new StaticUpstreams({ a: { host: '127.0.0.1', port: appPort }, cold: { host: '127.0.0.1', port: appPort } });
    const upstreams: UpstreamSource = {
      // App cold is starting: its requests are held until the test says it is ready.
      admit: (name, req, options) => {
        const admitted = ready.admit(name, req, options);
        if (name !== 'cold' || admitted.kind !== 'ready') return admitted;
        const { upstream, setCookie } = admitted;
        held++;
        return { kind: 'wait', ready: coldStarted.then(() => ({ upstream, setCookie })) };
      },
      admitReady: (name, req, exclude) => ready.admitReady(name, req, exclude),
      began: () => void counts.began++,
      ended: () => void counts.ended++,
      publicStatus: (name) => ready.publicStatus(name),
    };
    const logger = pino(
      { level: 'warn' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          logLines.push(JSON.parse(chunk.toString()) as (typeof logLines)[number]);
          done();
        },
      }),
    );
    proxy = new ProxyServer({
      routes: new RouteTable([
        { app: 'a', routes: [{ host: 'a.test', stripPrefix: false }] },
        { app: 'cold', routes: [{ host: 'cold.test', stripPrefix: false }] },
      ]),
      upstreams,
      logger,
    });
    https = new HttpsListener({ proxy, contextFor: () => context, logger, headersTimeoutMs: 5_000, maxConnections: 4, maxRequestHeaders: 100 });
    port = (await https.listen('127.0.0.1', 0)).port;
  });

  after(async () => {
    for (const session of sessions) session.destroy();
    for (const socket of sockets) socket.destroy();
    https.stopAccepting();
    await proxy.close(1_000);
    await https.close();
  });

  const session = (): ClientHttp2Session => {
    const s = http2Connect(`https://127.0.0.1:${port}`, { ca, servername: 'a.test' });
    s.on('error', () => undefined);
    sessions.push(s);
    return s;
  };
  const ask = (s: ClientHttp2Session, path: string, authority = 'a.test') =>
    new Promise<number>((resolve, reject) => {
      const stream = s.request({ ':path': path, ':authority': authority });
      let status = 0;
      stream.on('response', (h) => (status = Number(h[':status'])));
      stream.resume();
      stream.on('end', () => resolve(status));
      stream.on('error', reject);
    });

  it('one session’s concurrent streams are bounded (SETTINGS_MAX_CONCURRENT_STREAMS), so it cannot send the app thousands of requests at once', async () => {
    const s = session();
    await new Promise<void>((resolve) => s.once('remoteSettings', () => resolve()));
    assert.equal(s.remoteSettings.maxConcurrentStreams, MAX_CONCURRENT_STREAMS);
    mostHeld = 0;
    const n = MAX_CONCURRENT_STREAMS + 150;
    const statuses = await Promise.all(Array.from({ length: n }, () => ask(s, '/slow')));
    assert.equal(statuses.filter((status) => status === 200).length, n, 'every stream answered in turn');
    assert.ok(mostHeld <= MAX_CONCURRENT_STREAMS, `the app held ${mostHeld} requests of one session at once`);
    s.close();
  });

  it('rapid reset (HEADERS then RST_STREAM, over and over) leaves no exchange or app request behind, and others are served', async () => {
    const s = session();
    await new Promise<void>((resolve) => s.once('remoteSettings', () => resolve()));
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 50; i++) {
        const stream = s.request({ ':path': '/slow', ':authority': 'a.test' });
        stream.on('error', () => undefined);
        stream.close(0x8 /* CANCEL */);
      }
      await new Promise((r) => setImmediate(r));
    }
    await until('every exchange begun has ended', () => counts.ended === counts.began);
    await until('the app holds no request', () => holding === 0);
    // A fresh client is served (the attacker's session may have been sent GOAWAY: either is fine).
    assert.equal(await ask(session(), '/after-reset'), 200);
  });
  it('a stream reset while the app is quiet (the client cancels, or its Content-Length lies) aborts the app’s request and ends the exchange', async () => {
    const s = session();
    const reset = (stream: ClientHttp2Stream) =>
      new Promise<void>((resolve) => {
        stream.on('error', () => undefined);
        stream.once('close', () => resolve());
      });
    // A long poll the client gives up on (a browser navigating away sends RST_STREAM CANCEL).
    const cancelled = s.request({ ':path': '/never', ':authority': 'a.test' });
    await until('the app holds the long poll', () => holding === 1);
    cancelled.close(0x8 /* CANCEL */);
    await reset(cancelled);
    await until('the cancelled long poll was aborted at the app', () => holding === 0);
    await until('its exchange ended', () => counts.ended === counts.began);
    // A body longer than its Content-Length: Node resets the stream (PROTOCOL_ERROR) while the app waits for the rest.
    const lying = s.request({ ':path': '/never', ':method': 'POST', ':authority': 'a.test', 'content-length': '5' }, { endStream: false });
    lying.write('abc');
    await until('the app holds the upload', () => holding === 1);
    lying.end('defghij');
    await reset(lying);
    await until('the upload was aborted at the app', () => holding === 0);
    await until('its exchange ended', () => counts.ended === counts.began);
    s.close();
  });

  it('requests cancelled while held for a cold start (rapid reset against a stopped app) never reach the app once it is ready', async () => {
    const s = session();
    const askedBefore = appAsked;
    for (let i = 0; i < 20; i++) {
      const stream = s.request({ ':path': `/held-${i}`, ':authority': 'cold.test' });
      stream.on('error', () => undefined);
      await until('the request is held', () => held === i + 1);
      stream.close(0x8 /* CANCEL */);
      await new Promise<void>((resolve) => stream.once('close', () => resolve()));
    }
    startCold();
    // A request after the start goes through; by then the cancelled ones had their chance to reach the app.
    assert.equal(await ask(s, '/after-start', 'cold.test'), 200);
    await until('every exchange ended', () => counts.ended === counts.began);
    assert.equal(appAsked - askedBefore, 1, 'only the request still wanted reached the app');
    s.close();
  });

  it('TLS connections past the cap are closed, and the log says so once a second at most, not once per connection', async () => {
    // The earlier tests' sessions hold places under the cap of 4.
    for (const s of sessions) s.destroy();
    const before = logLines.length;
    const served: boolean[] = [];
    const opened: Promise<void>[] = [];
    for (let i = 0; i < 12; i++) {
      const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'a.test', ALPNProtocols: ['http/1.1'] });
      socket.on('error', () => undefined);
      sockets.push(socket);
      opened.push(
        new Promise((resolve) => {
          socket.once('secureConnect', () => resolve(void served.push(true)));
          socket.once('close', () => resolve());
        }),
      );
    }
    await Promise.all(opened);
    const dropped = 12 - served.length;
    assert.ok(dropped >= 8, `${dropped} connections past the cap of 4 were closed`);
    const warnings = () => logLines.slice(before).filter((l) => /TLS connection limit/.test(l.msg ?? ''));
    const counted = () => warnings().reduce((sum, l) => sum + (l.refused ?? 0), 0);
    await until('every closed connection is counted in the log', () => counted() === dropped);
    // The first at once, the rest summed a second later: a flood is a line or two, not one per client.
    assert.ok(warnings().length <= 2, JSON.stringify(warnings()));
    for (const socket of sockets) socket.destroy();
  });
});
