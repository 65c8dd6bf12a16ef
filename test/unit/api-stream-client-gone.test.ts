// Endless answers (event streams, log follows) whose client leaves. The admin server
// keeps half-open connections answering (a client may shut its side after a request
// and still wait for the answer), so a leaving client's EOF alone ended nothing: an
// event stream held its socket until a heartbeat write failed (15–30 s), and a quiet
// app's log follow held its socket and its engine log stream for good.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { FakeGatewayBed } from '../support/fake-gateway.js';
import { waitFor } from '../support/wait-for.js';

const SPEC = { apiVersion: 'berth/v1', name: 'quiet', image: 'fake/quiet:1', port: 8080, readiness: { path: '/healthz' } };

/** Sends a GET on a raw socket and resolves once the answer's head has come. */
async function openStream(port: number, path: string, token: string): Promise<{ socket: Socket; ended: Promise<void> }> {
  const socket = connect(port, '127.0.0.1');
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  let got = '';
  await new Promise<void>((resolve, reject) => {
    socket.on('data', (chunk) => {
      got += chunk.toString('latin1');
      if (got.includes('\r\n\r\n')) resolve();
    });
    socket.once('error', reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\n\r\n`);
  });
  assert.match(got, /^HTTP\/1\.1 200 /);
  return { socket, ended };
}

describe('an endless answer ends when its client leaves', () => {
  for (const [what, path] of [
    ['an event stream', '/v1/events'],
    ["one app's event stream", '/v1/apps/quiet/events'],
    ["a quiet app's log follow", '/v1/apps/quiet/logs?follow=true'],
  ] as const) {
    it(`${what}: the client's EOF closes it at once`, async (t) => {
      const bed = await FakeGatewayBed.create();
      t.after(() => bed.dispose());
      const gateway = await bed.start();
      assert.equal((await bed.api(gateway, 'POST', '/v1/apps', SPEC)).status < 300, true);
      assert.equal((await bed.api(gateway, 'POST', '/v1/apps/quiet/start')).status, 200);
      const { socket, ended } = await openStream(gateway.adminAddress!.port, path, bed.adminToken);
      t.after(() => socket.destroy());
      socket.end(); // the client is done: FIN
      const closed = await Promise.race([ended.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 3_000))]);
      assert.ok(closed, 'the server closed the connection within 3 s of the client leaving');
      if (path.includes('logs')) await waitFor('the engine log stream to be closed too', () => bed.runtime.follows.length > 0 && bed.runtime.follows.every((f) => f.destroyed), { timeoutMs: 3_000 });
    });
  }
});

it("a log the engine's stream breaks off is cut, not ended: the client can tell it does not have all of it", async (t) => {
  const bed = await FakeGatewayBed.create();
  t.after(() => bed.dispose());
  const gateway = await bed.start();
  assert.equal((await bed.api(gateway, 'POST', '/v1/apps', SPEC)).status < 300, true);
  assert.equal((await bed.api(gateway, 'POST', '/v1/apps/quiet/start')).status, 200);
  const outcome = await new Promise<string>((resolve) => {
    const req = request({ port: gateway.adminAddress!.port, path: '/v1/apps/quiet/logs?follow=true', headers: { authorization: `Bearer ${bed.adminToken}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(`ended cleanly after ${JSON.stringify(body)}`));
      res.on('error', () => resolve(`cut after ${JSON.stringify(body)}`));
      res.on('aborted', () => resolve(`cut after ${JSON.stringify(body)}`));
    });
    req.on('error', () => resolve('cut'));
    req.end();
    void waitFor('the follow to begin', () => bed.runtime.follows.length > 0, { timeoutMs: 3_000 }).then(() => {
      const follow = bed.runtime.follows[0]!;
      follow.write('line 1\n');
      setTimeout(() => follow.destroy(new Error('the engine went away')), 100);
    });
  });
  assert.match(outcome, /^cut/);
});

// Pipelined requests: an answer queued behind another still under way on the same
// connection has no socket yet, and when the connection closed Node emitted no 'close'
// for it, so what its route ends on 'close' was held for the life of the gateway: an
// event stream's subscription and heartbeat timer, a log follow's engine log stream.
describe('an endless answer queued behind another on a pipelined connection ends when the connection goes', () => {
  for (const [what, path, opened, ended] of [
    [
      'an event stream behind an event stream',
      '/v1/apps/quiet/events',
      (bed: FakeGatewayBed, base: number, size: number) => size === base + 2,
      (bed: FakeGatewayBed, base: number, size: number) => size === base,
    ],
    [
      'a log follow behind a log follow',
      '/v1/apps/quiet/logs?follow=true',
      (bed: FakeGatewayBed) => bed.runtime.follows.length === 2,
      (bed: FakeGatewayBed) => bed.runtime.follows.every((f) => f.destroyed),
    ],
  ] as const) {
    it(what, async (t) => {
      const bed = await FakeGatewayBed.create();
      t.after(() => bed.dispose());
      const gateway = await bed.start();
      assert.equal((await bed.api(gateway, 'POST', '/v1/apps', SPEC)).status < 300, true);
      assert.equal((await bed.api(gateway, 'POST', '/v1/apps/quiet/start')).status, 200);
      const base = gateway.events.size;
      const socket = connect(gateway.adminAddress!.port, '127.0.0.1');
      t.after(() => socket.destroy());
      socket.on('error', () => undefined);
      const head = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${bed.adminToken}\r\n\r\n`;
      socket.write(head + head);
      await waitFor('both answers to be under way', () => opened(bed, base, gateway.events.size), { timeoutMs: 10_000 });
      socket.destroy();
      await waitFor('both to be ended', () => ended(bed, base, gateway.events.size), { timeoutMs: 10_000 });
    });
  }
});

it('answers queued behind an event stream on a pipelined connection are let go when the connection goes', async (t) => {
  const bed = await FakeGatewayBed.create();
  t.after(() => bed.dispose());
  const gateway = await bed.start();
  // The admin server's answers under way, kept by token (open-answers.ts): each queued answer was held there for good.
  const openAnswers = () => (gateway as unknown as { admin: { open: { open: Map<unknown, unknown> } } }).admin.open.open.size;
  const socket = connect(gateway.adminAddress!.port, '127.0.0.1');
  t.after(() => socket.destroy());
  socket.on('error', () => undefined);
  const head = (path: string) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${bed.adminToken}\r\n\r\n`;
  socket.write(head('/v1/events') + head('/v1/health').repeat(20));
  await waitFor('every answer to be under way', () => openAnswers() === 21, { timeoutMs: 10_000 });
  socket.destroy();
  await waitFor('every answer to be let go', () => openAnswers() === 0, { timeoutMs: 10_000 });
});
