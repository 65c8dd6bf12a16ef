// With proxy workers (config `workers: 2`), every request a worker answers reaches the control's
// history, metrics and usage exactly once (the worker's RecordOutbox batches, the pool's feed
// decodes): real forks of worker-main.js on the fake engine, no Docker.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import pino from 'pino';
import { buildConfig } from '../../src/config/load-config.js';
import { proxySettingsOf, routeEntriesOf } from '../../src/cluster/gateway-workers.js';
import { WorkerPool } from '../../src/cluster/worker-pool.js';
import type { RequestRecord } from '../../src/store/store.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { eventually, fakeActivator, fakeSpec } from '../support/fake-activator.js';
import { timedGet } from '../support/http-requests.js';

const rt = new FakeRuntime();
const activator = fakeActivator(rt);

after(async () => {
  activator.close();
  await rt.close();
});

test('two workers: each request, the cold start included, is one record at the control', { timeout: 30_000 }, async (t) => {
  const spec = fakeSpec('web');
  await activator.reconcile([spec]);
  const records: RequestRecord[] = [];
  const config = await buildConfig({}, tmpdir());
  const workers = new WorkerPool({
    count: 2,
    activator,
    logger: pino({ level: 'silent' }),
    settings: () => proxySettingsOf(config, Buffer.alloc(32), undefined, 'silent'),
    onRecords: (batch) => records.push(...batch),
  });
  let closed = false;
  t.after(() => (closed ? undefined : workers.close(1_000)));
  const { port } = await workers.listen('127.0.0.1', 0);
  workers.feed.publishRoutes(routeEntriesOf([spec]));
  // The routes go over IPC and the request over TCP: the first request is retried until routed (bounded).
  let first = await timedGet(port, '/session/web/first', { timeoutMs: 10_000 });
  for (const deadline = performance.now() + 5_000; first.status === 404 && performance.now() < deadline; ) first = await timedGet(port, '/session/web/first', { timeoutMs: 10_000 });
  assert.equal(first.status, 200, 'the cold start served the first request');
  const paths = Array.from({ length: 20 }, (_, i) => `/session/web/r${i}`);
  // Each on a new connection (timedGet closes it), so both workers take some.
  for (const path of paths) assert.equal((await timedGet(port, path, { timeoutMs: 10_000 })).status, 200);
  // The bare prefix: berth's redirect or the app, whichever the spec's route says; one record either way.
  const bare = (await timedGet(port, '/session/web', { timeoutMs: 10_000 })).status;
  // A graceful stop sends every batch first (README: workers).
  await workers.close(5_000);
  closed = true;
  await eventually('the records of every request', () => paths.every((p) => records.some((r) => r.path === p)), 5_000);
  for (const path of [...paths, '/session/web']) {
    const mine = records.filter((r) => r.path === path);
    assert.equal(mine.length, 1, `${path}: ${JSON.stringify(mine)}`);
    assert.equal(mine[0]!.app, 'web');
    assert.equal(mine[0]!.status, path === '/session/web' ? bare : 200);
  }
  const firsts = records.filter((r) => r.path === '/session/web/first' && r.status === 200);
  assert.equal(firsts.length, 1);
  assert.equal(firsts[0]!.waited, true, 'the cold start is told');
  assert.equal(firsts[0]!.bytesOut, 'fake'.length);
});
