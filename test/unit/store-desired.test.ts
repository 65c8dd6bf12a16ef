import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { appSpec } from '../support/spec-fixture.js';

let root = '';
let counter = 0;
before(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'berth-store-desired-'));
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

function freshPath(): string {
  counter += 1;
  return join(root, `case-${counter}`, 'berth.db');
}

async function withStore<T>(path: string, fn: (store: SqliteStore) => Promise<T>): Promise<T> {
  const store = new SqliteStore({ path });
  await store.open();
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

describe('SqliteStore desired state (tombstones, scale, identity, durability)', () => {
  it('keeps a deleted app as a tombstone, out of the desired apps, until forgotten', async () => {
    const path = freshPath();
    await withStore(path, async (s) => {
      await s.applyApps([appSpec('web'), appSpec('db')], 'api');
      assert.equal(await s.deleteApp('web', { purgeVolumes: true }), true);
      assert.equal(await s.deleteApp('web'), false, 'a tombstone is not deleted twice');
      assert.deepEqual((await s.listApps()).map((a) => a.name), ['db']);
      assert.equal(await s.getApp('web'), undefined);
    });
    // A restart (kill -9 right after the DELETE) still knows the delete is pending.
    await withStore(path, async (s) => {
      const deleted = await s.listDeleted();
      assert.deepEqual(deleted.map((d) => [d.name, d.purgeVolumes]), [['web', true]]);
      await s.forgetDeleted('web');
      await s.forgetDeleted('db'); // a desired app is never forgotten
      assert.deepEqual(await s.listDeleted(), []);
      assert.deepEqual((await s.listApps()).map((a) => a.name), ['db']);
    });
  });

  it('tombstones apps removed from the config in the same transaction', async () => {
    await withStore(freshPath(), async (s) => {
      await s.applyApps([appSpec('a'), appSpec('b')], 'config');
      await s.applyApps([appSpec('b')], 'config', ['a']);
      assert.deepEqual((await s.listDeleted()).map((d) => [d.name, d.purgeVolumes]), [['a', false]]);
    });
  });

  it('makes a new app (revision 1) when a spec comes for a tombstoned name', async () => {
    await withStore(freshPath(), async (s) => {
      await s.applyApps([appSpec('web')], 'api');
      await s.applyApps([appSpec('web', { env: { A: '1' } })], 'api');
      await s.deleteApp('web');
      const [put] = await s.applyApps([appSpec('web', { env: { A: '1' } })], 'api');
      assert.deepEqual([put!.app.revision, put!.changed], [1, true]);
      assert.deepEqual(await s.listDeleted(), []);
    });
  });

  it('keeps the scale override across reopen, and drops it when the spec changes', async () => {
    const path = freshPath();
    await withStore(path, async (s) => {
      await s.applyApps([appSpec('web')], 'config');
      assert.equal(await s.setReplicas('web', 3), true);
      assert.equal(await s.setReplicas('nope', 3), false);
    });
    await withStore(path, async (s) => {
      assert.equal((await s.getApp('web'))?.replicas, 3);
      // The same spec again (a config reload) keeps it.
      await s.applyApps([appSpec('web')], 'config');
      assert.equal((await s.getApp('web'))?.replicas, 3);
      await s.applyApps([appSpec('web', { env: { A: '1' } })], 'config');
      assert.equal((await s.getApp('web'))?.replicas, undefined);
    });
  });

  it('restores an app row exactly as it was read', async () => {
    await withStore(freshPath(), async (s) => {
      await s.applyApps([appSpec('web')], 'api');
      await s.setReplicas('web', 2);
      const before = (await s.getApp('web'))!;
      await s.applyApps([appSpec('web', { image: 'berth-test/app:broken' })], 'api');
      assert.equal((await s.getApp('web'))?.revision, 2);
      await s.restoreApp(before);
      assert.deepEqual(await s.getApp('web'), before);
    });
  });

  it('has one random identity per store file, kept across reopen', async () => {
    const a = freshPath();
    const idA = await withStore(a, (s) => s.storeId());
    assert.equal(await withStore(a, (s) => s.storeId()), idA);
    assert.notEqual(await withStore(freshPath(), (s) => s.storeId()), idA);
  });

  it('says whether the file existed but held no schema (0 bytes)', async () => {
    const fresh = freshPath();
    await withStore(fresh, async (s) => assert.equal(s.openedEmpty, false, 'a file berth makes is a new store, not an empty one'));
    await withStore(fresh, async (s) => assert.equal(s.openedEmpty, false));
    const empty = freshPath();
    await fs.mkdir(join(empty, '..'), { recursive: true });
    await fs.writeFile(empty, '');
    await withStore(empty, async (s) => assert.equal(s.openedEmpty, true));
  });

  it('commits desired state with synchronous=FULL', async () => {
    const path = freshPath();
    await withStore(path, async (s) => {
      await s.applyApps([appSpec('web')], 'api');
      // The store's own connection: read through a second one would show the default.
      const db = (s as unknown as { db: Database.Database }).db;
      assert.equal(db.pragma('synchronous', { simple: true }), 2, 'FULL is 2');
    });
  });
});

describe('SqliteStore unsettled API updates', () => {
  it('puts back the row an unsettled update replaced, and keeps a settled one', async () => {
    const path = freshPath();
    await withStore(path, async (s) => {
      await s.applyApps([appSpec('web'), appSpec('db')], 'api');
      await s.setReplicas('web', 2);
      const before = (await s.getApp('web'))!;
      await s.applyApps([appSpec('web', { image: 'example/web:2' }), appSpec('db', { image: 'example/db:2' })], 'api');
      await s.settleApps(['db']);
      // The gateway is killed here, mid-rollout of web.
      assert.deepEqual(await s.revertUnsettled(), ['web']);
      assert.deepEqual(await s.getApp('web'), before);
      assert.equal((await s.getApp('db'))?.spec.image, 'example/db:2');
      assert.deepEqual(await s.revertUnsettled(), [], 'once only');
    });
  });

  it('never holds back a config sync; a new app goes with its unsettled apply, a settled one stays', async () => {
    await withStore(freshPath(), async (s) => {
      await s.applyApps([appSpec('a')], 'config');
      await s.applyApps([appSpec('a', { image: 'example/a:2' })], 'config');
      await s.applyApps([appSpec('b'), appSpec('c')], 'api');
      await s.settleApps(['c']);
      // An apply a killed gateway never answered is undone whole, the apps it created too.
      assert.deepEqual(await s.revertUnsettled(), ['b']);
      assert.equal(await s.getApp('b'), undefined);
      assert.equal((await s.getApp('c'))?.spec.image, appSpec('c').image);
      assert.equal((await s.getApp('a'))?.spec.image, 'example/a:2');
    });
  });
});
