// `berth logs APP` of an app with several replicas shows every replica's output,
// each line prefixed with its container's name (as `docker compose logs` does),
// not the first replica's alone.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { LinePrefixer, MAX_HELD_LINE, mergeReplicaLogs } from '../../src/gateway/replica-logs.js';
import { FakeGatewayBed } from '../support/fake-gateway.js';
import { eventually } from '../support/fake-activator.js';

/** A gateway whose app `two` runs two replicas, each writing `hello`; disposed after the test. */
async function twoReplicas(t: { after(fn: () => unknown): void }) {
  const bed = await FakeGatewayBed.create();
  t.after(() => bed.dispose());
  bed.runtime.behave('two', { output: 'hello\n' });
  const gateway = await bed.start();
  const spec = { apiVersion: 'berth/v1', name: 'two', image: 'fake/two:1', port: 8080, readiness: { path: '/healthz' }, scale: { min: 2, max: 2 } };
  assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec)).status < 300, true);
  await eventually('two replicas run', () => bed.runtime.running('two').length === 2, 5_000);
  return { bed, gateway };
}

describe('replica logs', () => {
  it('prefixes whole lines only, a line split across chunks once, and ends a last line without its newline', async () => {
    const source = Readable.from(['one\ntw', 'o\n', '', 'three\nfour'], { objectMode: false });
    assert.equal(await text(source.pipe(new LinePrefixer('a | '))), 'a | one\na | two\na | three\na | four\n');
  });

  it('holds back at most MAX_HELD_LINE of a line without its newline: a longer one goes on in prefixed pieces', async () => {
    const long = 'x'.repeat(MAX_HELD_LINE * 2 + 5);
    const prefixer = new LinePrefixer('a | ');
    const pieces: string[] = [];
    prefixer.on('data', (chunk: string) => pieces.push(chunk));
    for (let i = 0; i < long.length; i += 1000) prefixer.write(long.slice(i, i + 1000));
    await new Promise((r) => setImmediate(r));
    assert.equal(pieces.join(''), `a | ${'x'.repeat(MAX_HELD_LINE)}\na | ${'x'.repeat(MAX_HELD_LINE)}\n`, 'two whole pieces passed on before any newline');
    const ended = new Promise((r) => prefixer.once('end', r));
    prefixer.end();
    await ended;
    assert.equal(pieces.slice(-1)[0], 'a | xxxxx\n', 'the rest ends the stream');
  });

  it('merges replicas with names padded to line up, ends when all ended, and a broken one cuts the whole', async () => {
    const merged = mergeReplicaLogs([
      { name: 'web-1', stream: Readable.from(['x\n']) },
      { name: 'web-10', stream: Readable.from(['y\n']) },
    ]);
    assert.deepEqual((await text(merged)).split('\n').sort(), ['', 'web-1  | x', 'web-10 | y']);
    const broken = new PassThrough();
    const cut = mergeReplicaLogs([
      { name: 'a', stream: broken },
      { name: 'b', stream: Readable.from(['fine\n']) },
    ]);
    broken.destroy(new Error('engine went away'));
    await assert.rejects(text(cut), /engine went away/);
  });

  it('GET /v1/apps/{name}/logs of an app with two replicas has both replicas\' lines, each named', async (t) => {
    const { bed, gateway } = await twoReplicas(t);
    const names = bed.runtime.running('two').map((i) => i.name).sort();
    const res = await fetch(`http://127.0.0.1:${gateway.adminAddress!.port}/v1/apps/two/logs`, { headers: { authorization: `Bearer ${bed.adminToken}` } });
    assert.equal(res.status, 200);
    const lines = (await res.text()).split('\n').filter(Boolean).sort();
    const width = Math.max(...names.map((n) => n.length));
    assert.deepEqual(lines, names.map((n) => `${n.padEnd(width)} | hello`).sort());
  });
});

describe('replica logs: a stream that breaks while the others open', () => {
  it('fails the answer (the others closed), not an unhandled error event that ends the gateway', async (t) => {
    const { bed, gateway } = await twoReplicas(t);
    // The first replica's engine connection breaks while the second one's logs are being opened (the engine restarting).
    const opened: PassThrough[] = [];
    let opens = 0;
    bed.runtime.logs = async () => {
      const stream = new PassThrough();
      opened.push(stream);
      if (opens++ === 0) return stream;
      opened[0]!.destroy(new Error('the engine closed the connection'));
      await new Promise((r) => setTimeout(r, 20));
      return stream;
    };
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    t.after(() => process.off('uncaughtException', onUncaught));
    const res = await fetch(`http://127.0.0.1:${gateway.adminAddress!.port}/v1/apps/two/logs?follow=true`, { headers: { authorization: `Bearer ${bed.adminToken}` } });
    const body = await res.text();
    assert.deepEqual(uncaught, []);
    assert.equal(res.status, 502, 'the engine\'s failure, not told it has the replicas\' logs');
    assert.match(body, /the engine closed the connection/);
    assert.equal(opened.length, 2);
    assert.ok(opened.every((s) => s.destroyed), 'every stream opened is closed');
  });
});
