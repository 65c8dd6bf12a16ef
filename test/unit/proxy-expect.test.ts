import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect as http2Connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { pino } from 'pino';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import type { Admission, AdmitOptions } from '../../src/proxy/upstream.js';
import { BerthError, PolicyError } from '../../src/errors.js';
import { hasWholeResponse, RawClient, wsHandshake } from '../support/raw-client.js';
import { TestUpstreams } from '../support/test-upstreams.js';
import { HttpsListener } from '../../src/tls/https-listener.js';
import { makeCa, makeLeaf } from '../support/openssl-certs.js';
import { waitFor } from '../support/wait-for.js';

// Expect and interim answers at the edge: berth routes a request before its client is asked for
// the body (a refusal goes out with no 100 Continue, and its connection closes), a held request's
// client is asked once the app is ready, an Expect berth cannot meet gets 417, and an app's
// interim answers reach the client only where they mean something.

const LINK = '</app.css>; rel=preload; as=style';

/** An upstream source whose `denied` app is refused by policy and whose `paged` app shows the waiting page. */
class Upstreams extends TestUpstreams {
  override admit(app: string, req: unknown, options?: AdmitOptions): Admission {
    if (app === 'denied') return { kind: 'fail', error: new PolicyError([{ path: 'image', message: 'not allowed' }]) };
    if (app === 'paged') return { kind: 'page' };
    return super.admit(app, req, options);
  }
}

let app: Server;
let upstreams: Upstreams;
let proxy: ProxyServer;
let port = 0;
let https: HttpsListener;
let tlsPort = 0;
let dir = '';
let ca = '';
const sessions: ClientHttp2Session[] = [];
/** Requests the app was sent, by target. */
const asked: string[] = [];
const clients: RawClient[] = [];

before(async () => {
  app = createServer((req, res) => {
    asked.push(req.url ?? '');
    if (req.url === '/chatty') {
      // Interim answers nobody asked for (two 100s, a 102), then the answer.
      res.writeContinue();
      res.writeContinue();
      res.writeProcessing();
      res.end('final');
      return;
    }
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => res.end(`read ${bytes}`));
  });
  // The app reads nothing of a handshake before answering (as Node's own server answers no 100 here).
  app.on('checkContinue', (req: IncomingMessage, res) => app.emit('request', req, res));
  app.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    socket.on('error', () => socket.destroy());
    const hints = req.url === '/ws/many' ? 10 : 1;
    for (let i = 0; i < hints; i++) socket.write(`HTTP/1.1 103 Early Hints\r\nLink: ${LINK}\r\n\r\n`);
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n');
    socket.end();
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const target = { host: '127.0.0.1', port: (app.address() as AddressInfo).port };
  upstreams = new Upstreams({ echo: target, held: target, denied: target, paged: target });
  upstreams.held.add('held');
  proxy = new ProxyServer({
    routes: new RouteTable([
      { app: 'echo', routes: [{ host: 'a.test', stripPrefix: false }, { host: '127.0.0.1', stripPrefix: false }] },
      { app: 'held', routes: [{ host: 'held.test', stripPrefix: false }] },
      { app: 'denied', routes: [{ host: 'denied.test', stripPrefix: false }] },
      { app: 'paged', routes: [{ host: 'paged.test', stripPrefix: false }] },
    ]),
    upstreams,
    logger: pino({ level: 'silent' }),
  });
  port = (await proxy.listen('127.0.0.1', 0)).port;
  dir = await mkdtemp(join(tmpdir(), 'berth-expect-'));
  const authority = await makeCa(dir);
  ca = authority.pem;
  const leaf = await makeLeaf(dir, authority, 'a.test', ['a.test', 'nowhere.test']);
  const context: SecureContext = createSecureContext({ cert: await readFile(leaf.cert), key: await readFile(leaf.key) });
  https = new HttpsListener({ proxy, contextFor: () => context, logger: pino({ level: 'silent' }), headersTimeoutMs: 5_000, maxRequestHeaders: 100 });
  tlsPort = (await https.listen('127.0.0.1', 0)).port;
});

after(async () => {
  for (const c of clients) c.destroy();
  for (const session of sessions) session.destroy();
  upstreams.settle(new Error('test over'));
  https.stopAccepting();
  await proxy.close(1_000);
  await https.close();
  await rm(dir, { recursive: true, force: true });
  app.closeAllConnections();
  await new Promise<void>((r) => app.close(() => r()));
});

async function open(): Promise<RawClient> {
  const c = await RawClient.open(port);
  clients.push(c);
  return c;
}

function upload(host: string, path: string, expect = '100-continue'): string {
  return `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: text/plain\r\nContent-Length: 4\r\nExpect: ${expect}\r\n\r\n`;
}

for (const [what, host, status] of [
  ['no route', 'nowhere.test', 404],
  ['an app its policy denies', 'denied.test', 403],
  ['the waiting page', 'paged.test', 503],
] as const) {
  test(`Expect: 100-continue to ${what}: the ${status} goes out at once with no 100 before it, and the connection closes after it`, async () => {
    const c = await open();
    c.write(upload(host, '/upload'));
    const text = await c.untilClosed();
    assert.match(text, new RegExp(`^HTTP/1\\.1 ${status} `), text);
    assert.doesNotMatch(text, /100 Continue/);
    assert.match(text, /\r\nconnection: close\r\n/i);
    assert.ok(!asked.includes('/upload'), 'the app was not asked');
  });
}

test('Expect: 100-continue to a held app: no 100 while it starts, then the 100, the body, and the answer', async () => {
  const c = await open();
  c.write(upload('held.test', '/held-upload'));
  await waitFor('the request held', () => upstreams.waitingCount === 1);
  // Held: the client is not yet asked for its body (curl sends it anyway after 1 s, which is fine too).
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(c.text, '');
  upstreams.settle();
  await c.until((t) => t.includes('\r\n\r\n'));
  assert.equal(c.text, 'HTTP/1.1 100 Continue\r\n\r\n');
  c.write('abcd');
  await c.until((t) => t.endsWith('read 4'));
  assert.match(c.text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
});

test('Expect: 100-continue to a held app whose start fails: its failure with no 100, and the connection closes', async () => {
  const c = await open();
  c.write(upload('held.test', '/held-fails'));
  await waitFor('the request held', () => upstreams.waitingCount === 1);
  upstreams.settle(new BerthError('start_failed', 'app held exited with code 1'));
  const text = await c.untilClosed();
  assert.match(text, /^HTTP\/1\.1 502 /, text);
  assert.doesNotMatch(text, /100 Continue/);
});

test('an Expect other than 100-continue gets 417 problem+json, and a request pipelined behind it is not read as its body', async () => {
  const c = await open();
  // The client sends no body (it waits to be told), then a request: that must not become the upload's 4 bytes and more.
  c.write(upload('a.test', '/expects-more', 'the-moon') + 'GET /after-417 HTTP/1.1\r\nHost: a.test\r\n\r\n');
  const text = await c.untilClosed();
  assert.match(text, /^HTTP\/1\.1 417 Expectation Failed\r\n/, text);
  assert.match(text, /\r\nconnection: close\r\n/i);
  assert.match(text, /"code":"expectation_failed"/);
  assert.equal(text.split('HTTP/1.1 ').length - 1, 1, 'one answer');
  assert.ok(!asked.includes('/expects-more') && !asked.includes('/after-417'), 'the app was not asked');
});

test('a client that sends its body without waiting for the 100 is answered, and the request pipelined behind it too', async () => {
  const c = await open();
  c.write(upload('a.test', '/eager') + 'abcd' + 'GET /after-eager HTTP/1.1\r\nHost: a.test\r\n\r\n');
  await c.until((t) => t.split('HTTP/1.1 200 OK').length === 3 && hasWholeResponse(t.slice(t.lastIndexOf('HTTP/1.1 200 OK'))));
  assert.match(c.text, /read 4/);
  assert.ok(c.text.endsWith('read 0'), c.text);
  assert.equal(c.text.split('100 Continue').length - 1, 1, 'one 100 at most');
});

test("an app's unasked 100s and its 102 never reach the client; one that asked gets berth's one 100", async () => {
  const plain = await open();
  plain.write('GET /chatty HTTP/1.1\r\nHost: a.test\r\n\r\n');
  await plain.until((t) => t.endsWith('final'));
  assert.match(plain.text, /^HTTP\/1\.1 200 OK\r\n/, plain.text);
  const asking = await open();
  asking.write('PUT /chatty HTTP/1.1\r\nHost: a.test\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\n');
  await asking.until((t) => t.includes('100 Continue\r\n\r\n'));
  asking.write('x');
  await asking.until((t) => t.endsWith('final'));
  assert.match(asking.text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/, asking.text);
  assert.equal(asking.text.split('HTTP/1.1 1').length - 1, 1);
});

test("the header bound does not cut an upload whose head came with an Expect (its head was complete when Node's server took it)", async () => {
  // A proxy of its own, with a header bound short enough to pass while the client is still sending its body.
  const quick = new ProxyServer({ routes: new RouteTable([{ app: 'echo', routes: [{ host: 'a.test', stripPrefix: false }] }]), upstreams, logger: pino({ level: 'silent' }), timeouts: { clientHeaderMs: 300 } });
  const quickPort = (await quick.listen('127.0.0.1', 0)).port;
  const c = await RawClient.open(quickPort);
  clients.push(c);
  try {
    c.write(upload('a.test', '/slow-upload'));
    await c.until((t) => t.includes('100 Continue\r\n\r\n'));
    c.write('ab');
    // Well past the bound (and its 250 ms sweep): a 408 would have come by now.
    await new Promise((r) => setTimeout(r, 1_000));
    c.write('cd');
    await c.until((t) => t.endsWith('read 4'));
    assert.match(c.text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/, c.text);
  } finally {
    c.destroy();
    await quick.close(1_000);
  }
});

test("an app's 103 Early Hints before its 101 reach the WebSocket client, a few at most", async () => {
  const one = await open();
  one.write(wsHandshake('/ws/one'));
  await one.until((t) => t.includes('101 Switching Protocols\r\n') && t.endsWith('\r\n\r\n'));
  assert.match(one.text, new RegExp(`^HTTP/1\\.1 103 Early Hints\\r\\nlink: ${LINK.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\r\\n\\r\\nHTTP/1\\.1 101 `, 'i'), one.text);
  const many = await open();
  many.write(wsHandshake('/ws/many'));
  await many.until((t) => t.includes('101 Switching Protocols\r\n') && t.endsWith('\r\n\r\n'));
  assert.equal(many.text.split('103 Early Hints').length - 1, 4, many.text);
});

/** An HTTP/2 upload to `host` with `expect`: the final status, whether a 100 came, and the body. */
function h2Upload(host: string, expect: string): Promise<{ status: number; continued: boolean; body: string }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no whole answer over HTTP/2 to ${host} (${expect})`)), 5_000)));
  return Promise.race([h2Exchange(host, expect), late]).finally(() => clearTimeout(timer));
}

async function h2Exchange(host: string, expect: string): Promise<{ status: number; continued: boolean; body: string }> {
  const session = http2Connect(`https://${host}:${tlsPort}`, { ca, servername: host, host: '127.0.0.1' } as never);
  session.on('error', () => undefined);
  sessions.push(session);
  const req = session.request({ ':method': 'POST', ':path': '/h2-upload', expect, 'content-length': '4' });
  let continued = false;
  req.once('continue', () => {
    continued = true;
    req.end('abcd');
  });
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  const headers = await new Promise<IncomingHttpHeaders>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
  await new Promise<void>((resolve) => {
    req.once('end', resolve);
    req.once('close', resolve);
  });
  session.close();
  return { status: Number(headers[':status']), continued, body: Buffer.concat(chunks).toString() };
}

test('over HTTP/2 alike: a refused upload gets no 100, an accepted one its 100 and its answer, another Expect a 417', async () => {
  const refused = await h2Upload('nowhere.test', '100-continue');
  assert.equal(refused.status, 404);
  assert.equal(refused.continued, false);
  const accepted = await h2Upload('a.test', '100-continue');
  assert.deepEqual(accepted, { status: 200, continued: true, body: 'read 4' });
  const unmet = await h2Upload('a.test', 'the-moon');
  assert.equal(unmet.status, 417);
  assert.equal(unmet.continued, false);
  assert.match(unmet.body, /"code":"expectation_failed"/);
});
