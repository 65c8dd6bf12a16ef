import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { connect as http2Connect, constants as http2Constants } from 'node:http2';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import { APP_IMAGE } from '../support/images.js';
import { cleanupByLabel, testRun } from '../support/docker-cleanup.js';
import { waitFor } from '../support/wait-for.js';
import { GatewayHarness, httpGet } from '../support/gateway-harness.js';
import { makeCa, makeLeaf, type TestCa } from '../support/openssl-certs.js';
import { h2Request, servedCertificate } from '../support/tls-client.js';
import { FileCertificates } from '../../src/tls/file-certificates.js';

/**
 * HTTPS with certificates from files made by openssl: SNI among exact and
 * wildcard names, HTTP/2 through to an app container, HTTP/1.1 and WebSockets
 * over TLS, reload on change, a bad pair refused, redirects and HSTS.
 */
const run = testRun();
const web = `tls${run.id}-web`;
const paged = `tls${run.id}-paged`;
const webHost = `${web}.example.test`;
const wildHost = `${paged}.wild.example.test`;
const plainHost = `${web}-plain.example.test`;

function appYaml(name: string, extra: string): string {
  return `apiVersion: berth/v1\nname: ${name}\nimage: ${APP_IMAGE}\nport: 8080\nreadiness: {path: /healthz}\n${extra}`;
}

function httpsGet(port: number, host: string, path: string, ca: string): Promise<{ status: number; headers: Record<string, unknown>; body: string; alpn: string | false | null }> {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port, path, servername: host, headers: { host }, ca, agent: false, ALPNProtocols: ['http/1.1'] };
    const req = httpsRequest(options as RequestOptions, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), alpn: (res.socket as { alpnProtocol?: string | false }).alpnProtocol ?? null }));
    });
    req.on('error', reject);
    req.end();
  });
}


describe('HTTPS with certificates from files', () => {
  let h: GatewayHarness;
  let dir = '';
  let ca: TestCa;
  let tlsPort = 0;
  let webPair: { cert: string; key: string };
  let wildPair: { cert: string; key: string };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-tls-'));
    ca = await makeCa(dir);
    webPair = await makeLeaf(dir, ca, 'web', [webHost, plainHost]);
    wildPair = await makeLeaf(dir, ca, 'wild', ['*.wild.example.test']);
    h = await GatewayHarness.create(run.labels);
    await h.writeConfig(`tls:\n  listen: 127.0.0.1:0\n  redirect: true\n  certificates:\n    - {cert: ${webPair.cert}, key: ${webPair.key}}\n    - {cert: ${wildPair.cert}, key: ${wildPair.key}}\n`);
    await h.writeApp(
      'web.yaml',
      appYaml(web, `routes:\n  - host: ${webHost}\n  - host: ${plainHost}\n    redirectHttps: false\nhsts: {maxAge: 1d, includeSubDomains: true}\n`),
    );
    await h.writeApp('paged.yaml', appYaml(paged, `waiting: page\nroutes:\n  - host: "*.wild.example.test"\n`));
    await h.start();
    tlsPort = h.gateway!.httpsAddress!.port;
  });

  after(async () => {
    await h?.dispose();
    await cleanupByLabel(run.label);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('SNI picks the exact certificate and the wildcard one, TLS 1.2+ only', async () => {
    const exact = await servedCertificate(tlsPort, webHost, ca.pem);
    assert.match(exact.cert.subjectaltname ?? '', new RegExp(`DNS:${webHost}`));
    assert.match(exact.protocol ?? '', /^TLSv1\.[23]$/);
    assert.equal(exact.alpn, 'h2');
    const wild = await servedCertificate(tlsPort, wildHost, ca.pem);
    assert.equal(wild.cert.subjectaltname, 'DNS:*.wild.example.test');
    await assert.rejects(servedCertificate(tlsPort, 'unknown.example.test', ca.pem), 'no certificate for a name nobody has');
    await assert.rejects(servedCertificate(tlsPort, webHost, ca.pem, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1' }), 'TLS 1.1 is refused');
  });

  test('an HTTP/2 request reaches the app container, with HSTS, in the history and the metrics', async () => {
    const reply = await h2Request(tlsPort, webHost, '/echo?via=h2', ca.pem);
    assert.equal(reply.status, 200, reply.body);
    const echo = JSON.parse(reply.body) as { path: string; query: Record<string, string>; headers: Record<string, string> };
    assert.equal(echo.path, '/echo');
    assert.equal(echo.query.via, 'h2');
    assert.equal(echo.headers.host, webHost, ':authority became Host');
    assert.equal(echo.headers['x-forwarded-proto'], 'https');
    // The upstream hop is HTTP/1.1 (kept alive by default): no HTTP/2 pseudo-header or connection-specific field crosses it.
    assert.ok(echo.headers.connection === undefined || echo.headers.connection === 'keep-alive', `connection: ${echo.headers.connection}`);
    assert.equal(Object.keys(echo.headers).some((k) => k.startsWith(':')), false, 'no pseudo-header reached the app');
    assert.equal(reply.headers['strict-transport-security'], 'max-age=86400; includeSubDomains');
    const items = await waitFor('the h2 request in the history', async () => {
      const found = ((await h.api('GET', `/v1/apps/${web}/history?since=1h`)).json.items as Array<{ path: string; status: number }>).filter((r) => r.path === '/echo?via=h2');
      return found.length > 0 ? found : undefined;
    }, { timeoutMs: 20_000, intervalMs: 200 });
    assert.equal(items[0]!.status, 200);
    const metrics = (await h.api('GET', '/v1/metrics')).text;
    assert.match(metrics, new RegExp(`berth_requests_total\\{app="${web}",code_class="2xx"`));
  });

  test('over one HTTP/2 connection: concurrent streams, an upload, and a stream reset mid-response that ends only itself', async () => {
    const session = http2Connect(`https://127.0.0.1:${tlsPort}`, { ca: ca.pem, servername: webHost });
    try {
      await new Promise<void>((resolve, reject) => {
        session.once('connect', () => resolve());
        session.once('error', reject);
      });
      const exchange = (headers: Record<string, string | string[]>, body?: Buffer) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const stream = session.request({ ':authority': webHost, ...headers });
          let status = 0;
          const chunks: Buffer[] = [];
          stream.on('response', (h) => (status = Number(h[':status'])));
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString() }));
          stream.on('error', reject);
          stream.end(body);
        });
      // A slow response whose stream the client cancels while the app is still working.
      const cancelled = session.request({ ':authority': webHost, ':path': '/slow?ms=3000' });
      cancelled.on('error', () => undefined);
      const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => exchange({ ':path': `/echo?i=${i}` })));
      cancelled.close(http2Constants.NGHTTP2_CANCEL);
      for (const [i, r] of replies.entries()) {
        assert.equal(r.status, 200);
        assert.equal((JSON.parse(r.body) as { query: Record<string, string> }).query.i, String(i));
      }
      const payload = randomBytes(1 << 20);
      const upload = await exchange({ ':path': '/upload', ':method': 'POST', 'content-type': 'application/octet-stream' }, payload);
      assert.equal(upload.status, 200, upload.body);
      assert.deepEqual(JSON.parse(upload.body), { bytes: payload.length, sha256: createHash('sha256').update(payload).digest('hex') });
      assert.equal((await exchange({ ':path': '/ping' })).body, 'pong', 'the connection still serves after the reset');
      // limits.requestHeaders (100) holds over HTTP/2 as over HTTP/1.1: 431, never truncated.
      const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`x-h${i}`, 'v']));
      assert.equal((await exchange({ ':path': '/ping', ...many })).status, 431);
      assert.equal((await exchange({ ':path': '/ping', ...Object.fromEntries(Object.entries(many).slice(1)) })).status, 200);
      // Cookies split into several fields (as browsers send them over HTTP/2) reach the app as one header.
      const cookies = await exchange({ ':path': '/echo', cookie: ['a=1', 'b=2'] });
      assert.equal((JSON.parse(cookies.body) as { headers: Record<string, string> }).headers.cookie, 'a=1; b=2');
    } finally {
      session.destroy();
    }
  });

  test('HTTP/1.1 over TLS (no h2 in ALPN) and a WebSocket over it work the same', async () => {
    const reply = await httpsGet(tlsPort, webHost, '/ping', ca.pem);
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'pong');
    assert.equal(reply.alpn, 'http/1.1');
    const ws = new WebSocket(`wss://127.0.0.1:${tlsPort}/ws`, { ca: ca.pem, servername: webHost, headers: { host: webHost } } as WebSocket.ClientOptions);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const echoed = new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
    ws.send('over tls');
    assert.equal(await echoed, 'over tls');
    ws.close();
  });

  test('garbage, a handshake without SNI, an HTTP/2 preface with nonsense: each fails alone and HTTPS keeps serving', async () => {
    const raw = (bytes: Buffer) =>
      new Promise<void>((resolve) => {
        const socket = netConnect(tlsPort, '127.0.0.1', () => socket.end(bytes));
        socket.on('error', () => resolve());
        socket.on('close', () => resolve());
        socket.setTimeout(5_000, () => socket.destroy());
        socket.resume();
      });
    await raw(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await raw(randomBytes(4096));
    await assert.rejects(servedCertificate(tlsPort, '', ca.pem), 'no SNI: no certificate is guessed');
    // A TLS connection that speaks HTTP/2's preface, then frames of random bytes.
    await new Promise<void>((resolve) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: tlsPort, servername: webHost, ca: ca.pem, ALPNProtocols: ['h2'] }, () => {
        socket.end(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), randomBytes(2048)]));
      });
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
      socket.setTimeout(5_000, () => socket.destroy());
      socket.resume();
    });
    const reply = await h2Request(tlsPort, webHost, '/ping', ca.pem);
    assert.equal(reply.body, 'pong');
  });

  test('the waiting page is served over HTTP/2 while a wildcard-routed app starts', async () => {
    const reply = await h2Request(tlsPort, wildHost, '/', ca.pem, { accept: 'text/html' });
    assert.equal(reply.status, 503, 'the please-wait page answers 503 with Retry-After');
    assert.match(reply.body, /<html/i);
    assert.equal(reply.headers['strict-transport-security'], undefined, 'no HSTS for an app without it');
  });

  test('plain HTTP gets 308 to HTTPS with path and query, except routes that opt out and ACME challenges', async () => {
    const redirected = await httpGet(h.port, '/a/b?c=1&d=2', { host: webHost });
    assert.equal(redirected.status, 308);
    assert.equal(redirected.headers.location, `https://${webHost}:${tlsPort}/a/b?c=1&d=2`);
    const served = await httpGet(h.port, '/ping', { host: plainHost });
    assert.equal(served.status, 200);
    assert.equal(served.headers['strict-transport-security'], undefined, 'HSTS is never sent over plain HTTP');
    const challenge = await httpGet(h.port, '/.well-known/acme-challenge/not-pending', { host: webHost });
    assert.equal(challenge.status, 404, 'the challenge path is answered by berth, not redirected');
  });

  test('a changed certificate file is served without a restart; a bad pair is refused and the old one keeps serving', async () => {
    const before = await servedCertificate(tlsPort, webHost, ca.pem);
    const fresh = await makeLeaf(dir, ca, 'web2', [webHost, plainHost]);
    await copyFile(fresh.key, webPair.key);
    await copyFile(fresh.cert, webPair.cert);
    const after = await waitFor('the new certificate served', async () => {
      const served = await servedCertificate(tlsPort, webHost, ca.pem);
      return served.cert.serialNumber !== before.cert.serialNumber ? served : undefined;
    }, { timeoutMs: 20_000, intervalMs: 200 });
    // A key that does not belong to the certificate: refused, the last good pair stays.
    const other = await makeLeaf(dir, ca, 'other', ['other.example.test']);
    await copyFile(other.key, webPair.key);
    await new Promise((r) => setTimeout(r, 2_500));
    assert.equal((await servedCertificate(tlsPort, webHost, ca.pem)).cert.serialNumber, after.cert.serialNumber);
    await assert.rejects(FileCertificates.load([{ cert: webPair.cert, key: webPair.key }], pino({ level: 'silent' }), () => undefined), (err: Error) => err.message.includes(webPair.key) && /does not belong/.test(err.message));
    await assert.rejects(FileCertificates.load([{ cert: join(dir, 'missing.crt'), key: webPair.key }], pino({ level: 'silent' }), () => undefined), (err: Error) => err.message.includes(join(dir, 'missing.crt')));
    // A reload naming a missing file is refused whole: the gateway keeps serving.
    await writeFile(h.configFile, (await readFile(h.configFile, 'utf8')).replace(wildPair.cert, join(dir, 'missing.crt')));
    await h.gateway!.reload();
    assert.equal((await servedCertificate(tlsPort, wildHost, ca.pem)).cert.subjectaltname, 'DNS:*.wild.example.test');
  });
});
