import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect as http2Connect, type ClientHttp2Session } from 'node:http2';
import { connect as tlsConnect, createSecureContext, type SecureContext } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import { StaticUpstreams } from '../../src/proxy/static-upstreams.js';
import type { RequestRecord } from '../../src/store/store.js';
import { HttpsListener, MAX_HEADER_LIST_BYTES } from '../../src/tls/https-listener.js';
import { makeCa, makeLeaf } from '../support/openssl-certs.js';
import { rawExchange } from '../support/raw-http.js';

/**
 * What a careless or hostile client sends at the HTTP/2 edge beyond floods
 * (https-h2-floods.test.ts): a header block past every sane size, request
 * trailers, and a Host that is not the name it gave in SNI. Each costs that
 * request at most, never the session's other streams.
 */
let dir = '';
let ca = '';
const contexts = new Map<string, SecureContext>();
let app: Server;
let proxy: ProxyServer;
let https: HttpsListener;
let tlsPort = 0;
let plainPort = 0;
const sessions: ClientHttp2Session[] = [];
/** The targets the app was sent, and the history's records, in order. */
const appSaw: string[] = [];
const records: RequestRecord[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-h2-edge-'));
  const authority = await makeCa(dir);
  ca = authority.pem;
  for (const name of ['a.test', 'b.test']) {
    const leaf = await makeLeaf(dir, authority, name, [name]);
    contexts.set(name, createSecureContext({ cert: await readFile(leaf.cert), key: await readFile(leaf.key) }));
  }
  // The app says which host it served and what body it read.
  app = createServer((req: IncomingMessage, res: ServerResponse) => {
    appSaw.push(req.url ?? '');
    // Fields HTTP/1.1 carries and HTTP/2 does not: a connection-specific one, a singleton field twice.
    const [, kind, when] = /^\/h2-refused\/([a-z-]+)\/(alone|whole)$/.exec(req.url ?? '') ?? [];
    if (kind !== undefined) {
      if (kind === 'settings') res.setHeader('http2-settings', 'AAMAAABkAAQAoAAAAAIAAAAA');
      else res.setHeader('etag', ['"a"', '"b"']);
      // The head alone in its own read (the body a moment later), or head and body in one.
      if (when === 'whole') return res.end('ok');
      res.flushHeaders();
      return void setTimeout(() => res.end('ok'), 30);
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => res.end(JSON.stringify({ host: req.headers.host, app: req.headers['x-app'], body: Buffer.concat(chunks).toString() })));
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const appPort = (app.address() as AddressInfo).port;
  const logger = pino({ level: 'silent' });
  proxy = new ProxyServer({
    routes: new RouteTable([
      { app: 'a', routes: [{ host: 'a.test', stripPrefix: false }] },
      { app: 'b', routes: [{ host: 'b.test', stripPrefix: false }] },
    ]),
    upstreams: new StaticUpstreams({ a: { host: '127.0.0.1', port: appPort }, b: { host: '127.0.0.1', port: appPort } }),
    logger,
    onRequestDone: (record) => records.push(record),
  });
  https = new HttpsListener({ proxy, contextFor: (name) => contexts.get(name), logger, headersTimeoutMs: 5_000, maxRequestHeaders: 100 });
  tlsPort = (await https.listen('127.0.0.1', 0)).port;
  plainPort = (await proxy.listen('127.0.0.1', 0)).port;
});

after(async () => {
  for (const session of sessions) session.destroy();
  https.stopAccepting();
  await proxy.close(1_000);
  await https.close();
  app.closeAllConnections();
  await new Promise<void>((r) => app.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

function session(servername = 'a.test'): ClientHttp2Session {
  const s = http2Connect(`https://127.0.0.1:${tlsPort}`, { ca, servername });
  s.on('error', () => undefined);
  sessions.push(s);
  return s;
}

/** One request on `s`: its status (0: reset or failed) and body. */
function ask(s: ClientHttp2Session, headers: Record<string, string>, body?: string, trailers?: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const stream = s.request({ ':method': body === undefined ? 'GET' : 'POST', ':path': '/', ':authority': 'a.test', ...headers }, { waitForTrailers: trailers !== undefined });
    let status = 0;
    let text = '';
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => (text += c));
    stream.on('wantTrailers', () => stream.sendTrailers(trailers!));
    stream.on('error', () => undefined);
    stream.on('close', () => resolve({ status, body: text }));
    stream.end(body);
  });
}

describe('the HTTP/2 edge', () => {
  it('a header list past the bound is refused for its stream only; the session serves on', async () => {
    // A client that sends what it was told not to (the advertised SETTINGS_MAX_HEADER_LIST_SIZE).
    const s = http2Connect(`https://127.0.0.1:${tlsPort}`, { ca, servername: 'a.test', maxSendHeaderBlockLength: 1 << 20 });
    s.on('error', () => undefined);
    sessions.push(s);
    const settings = await new Promise<{ maxHeaderListSize?: number }>((resolve) => s.once('remoteSettings', resolve));
    assert.equal(settings.maxHeaderListSize, MAX_HEADER_LIST_BYTES, 'the bound is advertised');
    const long = ask(s, { 'x-slow': 'x' }, undefined);
    // 100 KB of headers in 20 fields (under the field count): past the bound, under nghttp2's cap on a header block.
    const big: Record<string, string> = {};
    for (let i = 0; i < 20; i++) big[`x-big-${i}`] = 'b'.repeat(5_000);
    const refused = await ask(s, big);
    assert.ok(refused.status === 431 || refused.status === 0, `refused (431 or a reset), got ${refused.status}`);
    assert.equal((await long).status, 200, 'the other stream was served');
    assert.equal(s.destroyed || s.closed, false, 'the session lives on');
    assert.equal((await ask(s, {})).status, 200, 'and serves the next request');
  });

  for (const when of ['alone', 'whole']) {
    it(`an app's HTTP2-Settings field (connection-specific, which HTTP/2 refuses) is left out, the answer relayed (head ${when})`, { timeout: 10_000 }, async () => {
      const s = session();
      const answer = await ask(s, { ':path': `/h2-refused/settings/${when}` });
      assert.deepEqual(answer, { status: 200, body: 'ok' });
      assert.equal((await ask(s, {})).status, 200, 'the session serves on');
    });

    // HTTP/1.1 relays a careless app's two ETag lines as they are; over HTTP/2 that head was a 502.
    it(`a field that may have one value, sent twice (ETag), keeps its first over HTTP/2 as over HTTP/1.1 (head ${when})`, { timeout: 10_000 }, async () => {
      const s = session();
      const got = await new Promise<{ headers: Record<string, unknown>; body: string }>((resolve) => {
        const stream = s.request({ ':path': `/h2-refused/etag/${when}`, ':authority': 'a.test' });
        let headers: Record<string, unknown> = {};
        let body = '';
        stream.on('response', (h) => (headers = h));
        stream.setEncoding('utf8');
        stream.on('data', (c: string) => (body += c));
        stream.on('end', () => resolve({ headers, body }));
        stream.on('error', () => resolve({ headers, body }));
        stream.end();
      });
      assert.equal(got.headers[':status'], 200);
      assert.equal(got.headers.etag, '"a"', 'the first value');
      assert.equal(got.body, 'ok');
      assert.equal((await ask(s, {})).status, 200, 'the session serves on');
    });
  }

  it('request trailers never break the request or the session', async () => {
    const s = session();
    const sent = await ask(s, { 'content-type': 'application/grpc', te: 'trailers' }, 'hello', { 'x-checksum': 'abc' });
    assert.equal(sent.status, 200);
    assert.equal(JSON.parse(sent.body).body, 'hello', 'the body reached the app whole');
    assert.equal((await ask(s, {})).status, 200, 'the session serves on');
  });

  it('HTTP/1.1 chunked trailers: the body reaches the app, the pipelined request after it is served', async () => {
    const chunked = 'POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-More: 1\r\n\r\n';
    const next = 'GET / HTTP/1.1\r\nHost: b.test\r\n\r\n';
    const outcome = await rawExchange(plainPort, [chunked + next], { responses: 2 });
    assert.equal(outcome.responses.length, 2, `both answered: ${outcome.bytes.toString()}`);
    assert.equal(JSON.parse(outcome.responses[0]!.body.toString()).body, 'hello');
    assert.equal(JSON.parse(outcome.responses[1]!.body.toString()).host, 'b.test');
  });

  it("SNI names a.test, :authority names b.test: routed by :authority, and a.test's certificate is the one shown", async () => {
    const shown = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: tlsPort, servername: 'a.test', ca, ALPNProtocols: ['h2'] }, () => {
        resolve(String(socket.getPeerCertificate().subject.CN));
        socket.destroy();
      });
      socket.on('error', reject);
    });
    assert.equal(shown, 'a.test');
    const s = session('a.test');
    const answer = await ask(s, { ':authority': 'b.test' });
    assert.equal(answer.status, 200);
    assert.equal(JSON.parse(answer.body).host, 'b.test');
  });

  it('raw UTF-8 in the query of :path is refused as over HTTP/1.1; percent-encoded, it is served and recorded as sent', async () => {
    const s = session();
    const raw = `/utf8?x=${Buffer.from('é', 'utf8').toString('latin1')}`;
    const refused = await ask(s, { ':path': raw });
    assert.equal(refused.status, 400);
    assert.match(refused.body, /outside ASCII/);
    const served = await ask(s, { ':path': '/utf8?x=%C3%A9' });
    assert.equal(served.status, 200, 'the session serves on');
    assert.deepEqual(appSaw.filter((url) => url.startsWith('/utf8')), ['/utf8?x=%C3%A9'], 'the refused request never reached the app');
    assert.deepEqual(records.filter((r) => r.path.startsWith('/utf8')).map((r) => [r.path, r.status]), [['/utf8?x=%C3%A9', 200]]);
  });

  it('a header value with raw UTF-8 reaches the app byte for byte over HTTP/2, as over HTTP/1.1 (obs-text)', async () => {
    const value = Buffer.from('é', 'utf8').toString('latin1');
    const answer = await ask(session(), { 'x-app': value });
    assert.equal(answer.status, 200);
    assert.equal(JSON.parse(answer.body).app, value, 'the app read the two bytes the client sent, not a re-encoding');
  });
});
