// Settling and reverting the unsettled rows of an API apply, on the SQLite store, are one
// transaction each. Each UPDATE was its own commit, synced to disk (synchronous=FULL) on
// the event loop: one apply of 5000 small apps (a 330 KB body) held the loop, and every
// proxied request, for 7 s in settleApps alone; and a revert stopped halfway (a failing
// row) left the apply half undone.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { appSpec } from '../support/spec-fixture.js';

let root = '';
let counter = 0;
before(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'berth-store-settle-'));
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function withStore(fn: (store: SqliteStore, db: Database.Database, path: string) => Promise<void>): Promise<void> {
  counter += 1;
  const path = join(root, `case-${counter}`, 'berth.db');
  const store = new SqliteStore({ path, historyThread: false });
  await store.open();
  try {
    await fn(store, (store as unknown as { db: Database.Database }).db, path);
  } finally {
    await store.close();
  }
}

const NAMES = Array.from({ length: 200 }, (_, i) => `a${i}`);

function unsettledNames(db: Database.Database): string[] {
  return db.prepare<[], { name: string }>('SELECT name FROM apps WHERE previous IS NOT NULL ORDER BY name').all().map((r) => r.name);
}

/** Frames in the write-ahead log: at least one per commit. */
async function walFrames(db: Database.Database, path: string): Promise<number> {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const { size } = await fs.stat(`${path}-wal`);
  return size === 0 ? 0 : (size - 32) / (pageSize + 24);
}

describe('SqliteStore: settling and reverting an apply is one transaction', () => {
  it('settles 200 apps in one commit, not one commit (and one sync) per app', async () => {
    await withStore(async (store, db, path) => {
      await store.applyApps(NAMES.map((name) => appSpec(name)), 'api');
      db.pragma('wal_checkpoint(TRUNCATE)');
      assert.equal(await walFrames(db, path), 0, 'the log starts empty');
      await store.settleApps(NAMES);
      assert.deepEqual(unsettledNames(db), []);
      const frames = await walFrames(db, path);
      // One commit writes each page it changed once: a few dozen here; a commit per app wrote 200 or more.
      assert.ok(frames < NAMES.length / 2, `${frames} frames written for one settle of ${NAMES.length} apps`);
    });
  });

  it('a settle that fails halfway settles none of the apps', async () => {
    await withStore(async (store, db) => {
      await store.applyApps(NAMES.map((name) => appSpec(name)), 'api');
      db.exec("CREATE TEMP TRIGGER refuse_a150 BEFORE UPDATE OF previous ON apps WHEN OLD.name = 'a150' BEGIN SELECT RAISE(ABORT, 'disk full'); END");
      await assert.rejects(store.settleApps(NAMES), /disk full/);
      assert.deepEqual(unsettledNames(db), [...NAMES].sort(), 'every app still unsettled, as before the settle');
    });
  });

  it('a revert that fails halfway puts back none of the apps', async () => {
    await withStore(async (store, db) => {
      await store.applyApps(NAMES.map((name) => appSpec(name)), 'config');
      await store.applyApps(NAMES.map((name) => appSpec(name, { image: `example/${name}:2` })), 'api');
      db.exec("CREATE TEMP TRIGGER refuse_a150 BEFORE UPDATE ON apps WHEN OLD.name = 'a150' BEGIN SELECT RAISE(ABORT, 'disk full'); END");
      await assert.rejects(store.revertUnsettled(), /disk full/);
      const images = (await store.listApps()).map((app) => app.spec.image);
      assert.deepEqual(images.filter((image) => !image.endsWith(':2')), [], 'every app still at the update, none put back');
      db.exec('DROP TRIGGER temp.refuse_a150');
      assert.equal((await store.revertUnsettled()).length, NAMES.length, 'then the whole apply is put back');
      assert.deepEqual((await store.listApps()).filter((app) => app.spec.image.endsWith(':2')), []);
    });
  });
});
