// Another process holding the SQLite store's write lock (a sqlite3 shell in a transaction, a
// backup tool) while the gateway runs. A write used to wait out the lock inside SQLite, with
// the gateway's one thread blocked for the whole busy timeout (5 s per write: the proxy
// stalled, at every usage flush and token use), and then failed as a 500 "database is
// locked". Now it waits between short tries with the event loop free, goes through once the
// lock is let go, and past its deadline fails as 503 store_unavailable saying why.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { BerthError, httpStatusOf } from '../../src/errors.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { appSpec } from '../support/spec-fixture.js';

let root = '';
let counter = 0;
before(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'berth-store-busy-'));
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** A store on a fresh file, and another connection to that file (the other process); both closed after the test. */
async function storeAndOther(busyTimeoutMs: number, t: { after(fn: () => Promise<void>): void }): Promise<{ store: SqliteStore; other: Database.Database; path: string }> {
  counter += 1;
  const path = join(root, `case-${counter}.db`);
  const store = new SqliteStore({ path, historyThread: false, busyTimeoutMs });
  await store.open();
  const other = new Database(path);
  t.after(async () => {
    if (other.inTransaction) other.exec('ROLLBACK');
    other.close();
    await store.close();
  });
  return { store, other, path };
}

describe('another process holds the write lock of the store', () => {
  it('a write waits with the event loop free, and is written once the lock is let go', async (t) => {
    const { store, other } = await storeAndOther(20_000, t);
    other.exec('BEGIN IMMEDIATE');
    const before = performance.now();
    const applied = store.applyApps([appSpec('web')], 'api');
    // The old store returned from this call only after SQLite's whole busy wait.
    const blockedMs = performance.now() - before;
    assert.ok(blockedMs < 2500, `the call held the thread for ${Math.round(blockedMs)} ms`);
    // Turns of the event loop go on while the write waits.
    let turns = 0;
    for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setTimeout(() => resolve(void turns++), 20));
    assert.equal(turns, 5);
    other.exec('ROLLBACK');
    const [result] = await applied;
    assert.equal(result!.app.name, 'web');
    assert.deepEqual((await store.listApps()).map((a) => a.name), ['web']);
  });

  it('a write still locked out at its deadline fails as 503 store_unavailable naming the store and why; nothing is written', async (t) => {
    const { store, other, path } = await storeAndOther(300, t);
    other.exec('BEGIN IMMEDIATE');
    await assert.rejects(store.applyApps([appSpec('web')], 'api'), (err: unknown) => {
      assert.ok(err instanceof BerthError);
      assert.equal(err.code, 'store_unavailable');
      assert.equal(httpStatusOf(err), 503);
      assert.ok(err.message.includes(path), err.message);
      assert.match(err.message, /cannot apply apps: another process holds its write lock/);
      return true;
    });
    other.exec('ROLLBACK');
    assert.deepEqual(await store.listApps(), []);
    await store.applyApps([appSpec('web')], 'api');
    assert.deepEqual((await store.listApps()).map((a) => a.name), ['web']);
  });

  it('many writes queued behind a held lock all fail at their deadline without each blocking the thread in turn', async (t) => {
    const { store, other } = await storeAndOther(300, t);
    await store.applyApps([appSpec('web')], 'api');
    other.exec('BEGIN IMMEDIATE');
    const started = performance.now();
    // A token use per API call, say: 200 of them while the lock is held.
    const outcomes = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => store.setReplicas('web', i + 1)));
    const tookMs = performance.now() - started;
    assert.ok(outcomes.every((o) => o.status === 'rejected' && (o.reason as BerthError).code === 'store_unavailable'));
    // One try each, every one blocking a busy slice, took 200 x 25 ms past the first deadline.
    assert.ok(tookMs < 2500, `the queue took ${Math.round(tookMs)} ms to fail`);
    other.exec('ROLLBACK');
    assert.equal(await store.setReplicas('web', 2), true);
  });

  it('writes waiting for the lock land in the order they were asked', async (t) => {
    const { store, other } = await storeAndOther(20_000, t);
    await store.applyApps([appSpec('web')], 'api');
    other.exec('BEGIN IMMEDIATE');
    const first = store.setReplicas('web', 3);
    const second = store.setReplicas('web', 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    other.exec('ROLLBACK');
    assert.deepEqual(await Promise.all([first, second]), [true, true]);
    assert.equal((await store.getApp('web'))!.replicas, 1);
  });

  it('settling apps with nothing to settle (the same specs applied again) takes no write, so a held lock cannot fail it', async (t) => {
    const { store, other } = await storeAndOther(300, t);
    await store.applyApps([appSpec('web')], 'api');
    await store.settleApps(['web']);
    other.exec('BEGIN IMMEDIATE');
    // It failed as 503 store_unavailable after the busy timeout: an unchanged `berth apply` refused during a backup.
    await store.settleApps(['web', 'nope']);
    other.exec('ROLLBACK');
    // One with something to settle still waits for the lock, and settles.
    await store.applyApps([appSpec('web', { env: { A: 'changed' } })], 'api');
    assert.equal((await store.replacedUnsettled()).length, 1);
    other.exec('BEGIN IMMEDIATE');
    await assert.rejects(store.settleApps(['web']), (err: BerthError) => err.code === 'store_unavailable');
    other.exec('ROLLBACK');
    await store.settleApps(['web']);
    assert.deepEqual(await store.replacedUnsettled(), []);
  });
});
