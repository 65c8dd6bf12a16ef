import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { connect as http2Connect } from 'node:http2';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeGatewayBed } from '../support/fake-gateway.js';
import { makeCa, makeLeaf } from '../support/openssl-certs.js';
import type { Gateway } from '../../src/gateway/gateway.js';

/**
 * A request held while its app cold-starts takes a place in the app's wait
 * queue (`queueSize`). A client that gives up (closes its HTTP/1.1
 * connection, resets its HTTP/2 stream) must give that place back at once:
 * otherwise a client can fill the queue with requests nobody waits for, and
 * every real one is refused with 503 until the start ends.
 */
const WITHIN_MS = 15_000;
const QUEUE = 2;

async function until(what: string, ok: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + WITHIN_MS;
  while (!(await ok()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(await ok(), what);
}

/** A gateway whose app `slow` takes a minute to become ready and holds at most QUEUE requests meanwhile. */
async function slowAppGateway(t: { after(fn: () => unknown): void }, configExtra = ''): Promise<{ bed: FakeGatewayBed; gateway: Gateway; waiting: () => Promise<number> }> {
  const bed = await FakeGatewayBed.create(configExtra);
  t.after(() => bed.dispose());
  bed.runtime.behave('slow', { readyAfterMs: 60_000 });
  const gateway = await bed.start();
  const created = await bed.api(gateway, 'POST', '/v1/apps', { apiVersion: 'berth/v1', name: 'slow', image: 'fake/slow:1', port: 8080, readiness: { path: '/healthz' }, startTimeout: '5m', queueSize: QUEUE });
  assert.ok(created.status < 300, JSON.stringify(created.json));
  const waiting = async () => (await bed.api(gateway, 'GET', '/v1/apps/slow')).json.status.waiting as number;
  return { bed, gateway, waiting };
}

describe('a held request whose client gives up leaves the wait queue', () => {
  it('HTTP/1.1: a reset connection gives its place back, and a new request is held instead of refused', async (t) => {
    const { gateway, waiting } = await slowAppGateway(t);
    const port = gateway.proxyAddress!.port;
    const ask = () => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/session/slow/', headers: { accept: 'application/json' } });
      req.on('error', () => undefined);
      req.end();
      return req;
    };
    const given = Array.from({ length: QUEUE }, ask);
    await until('both requests are held', async () => (await waiting()) === QUEUE);
    // A reset, not a FIN: a FIN alone is a half-close, whose request is still answered (half-open.ts).
    for (const req of given) req.socket!.resetAndDestroy();
    await until('the closed requests left the queue', async () => (await waiting()) === 0);
    const real = ask();
    const status = new Promise<number>((resolve) => real.on('response', (res) => resolve(res.statusCode!)));
    await until('a new request is held, not refused', async () => (await waiting()) === 1);
    const refused = await Promise.race([status, new Promise<number>((r) => setTimeout(() => r(0), 200))]);
    assert.equal(refused, 0, 'no answer (a 503) came for the new request');
    real.socket?.resetAndDestroy();
    await until('the last request left too', async () => (await waiting()) === 0);
  });

  it('HTTP/2: a reset stream gives its place back; the session and the real request go on', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-held-h2-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const ca = await makeCa(dir);
    const leaf = await makeLeaf(dir, ca, 'leaf', ['slow.test']);
    const { gateway, waiting } = await slowAppGateway(t, `tls:\n  listen: 127.0.0.1:0\n  certificates: [{cert: ${leaf.cert}, key: ${leaf.key}}]\n`);
    const session = http2Connect(`https://127.0.0.1:${gateway.httpsAddress!.port}`, { ca: ca.pem, servername: 'slow.test' });
    t.after(() => session.destroy());
    session.on('error', () => undefined);
    const open = () => {
      const stream = session.request({ ':path': '/session/slow/', ':authority': 'slow.test', accept: 'application/json' });
      stream.on('error', () => undefined);
      stream.end();
      return stream;
    };
    // Rounds of a full queue reset at once: with the places kept, the second round is refused.
    for (let round = 0; round < 3; round++) {
      const streams = Array.from({ length: QUEUE }, open);
      await until(`round ${round}: the streams are held`, async () => (await waiting()) === QUEUE);
      for (const stream of streams) stream.close();
      await until(`round ${round}: the reset streams left the queue`, async () => (await waiting()) === 0);
    }
    const real = open();
    let status = 0;
    real.on('response', (headers) => (status = Number(headers[':status'])));
    await until('the real request is held, not refused', async () => (await waiting()) === 1);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(status, 0, 'no answer (a 503) came for the real request');
    assert.equal(session.destroyed, false, 'the session lives on');
    real.close();
  });

  it('HTTP/1.1: requests pipelined on one connection all give their places back when it is reset', async (t) => {
    const { gateway, waiting } = await slowAppGateway(t);
    const port = gateway.proxyAddress!.port;
    const request = 'GET /session/slow/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n';
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    t.after(() => socket.destroy());
    // Both in one write: the second waits behind the first for its answer, and has no socket of its own yet.
    socket.write(request + request);
    await until('both requests are held', async () => (await waiting()) === QUEUE);
    socket.resetAndDestroy();
    await until('both requests left the queue, the pipelined one too', async () => (await waiting()) === 0);
  });
});
