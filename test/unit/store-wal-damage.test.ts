// A damaged write-ahead log at start. SQLite's recovery stops at the first frame
// whose checksum fails and drops the rest: before this check, a store whose log was
// damaged in its middle opened without the apps committed after the damage (the API
// had acknowledged them), and the reconciler then removed their containers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { StoreError } from '../../src/errors.js';
import { lostCommits } from '../../src/store/wal-check.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { appSpec } from '../support/spec-fixture.js';

const FRAME = 24 + 4096;

/**
 * A store file and its log as a gateway killed with -9 leaves them: apps `before`
 * checkpointed into the file, then `after` committed in the log only (one
 * transaction each). With `churn`, the log was restarted once first, so frames of
 * its earlier generation follow the current ones.
 */
async function killedStore(dir: string, before: string[], after: string[], churn = false): Promise<string> {
  const live = join(dir, 'live', 'berth.db');
  const store = new SqliteStore({ path: live, historyThread: false });
  await store.open();
  const db = (store as unknown as { db: Database.Database }).db;
  db.pragma('wal_autocheckpoint = 0');
  for (const name of before) await store.applyApps([appSpec(name)], 'api');
  if (churn) {
    for (let i = 0; i < 6; i++) await store.applyApps([appSpec(`old-${i}`)], 'api');
    db.pragma('wal_checkpoint(PASSIVE)');
  } else db.pragma('wal_checkpoint(TRUNCATE)');
  for (const name of after) await store.applyApps([appSpec(name)], 'api');
  const path = join(dir, 'killed', 'berth.db');
  await mkdir(join(dir, 'killed'), { recursive: true });
  await copyFile(live, path);
  await copyFile(`${live}-wal`, `${path}-wal`);
  await store.close();
  return path;
}

/** Flips a byte in the page of the log's nth frame. */
async function damageFrame(path: string, nth: number): Promise<void> {
  const wal = await readFile(`${path}-wal`);
  wal[32 + nth * FRAME + 24 + 200]! ^= 0xff;
  await writeFile(`${path}-wal`, wal);
}

async function appsIn(path: string): Promise<string[]> {
  const store = new SqliteStore({ path, historyThread: false });
  await store.open();
  try {
    return (await store.listApps()).map((a) => a.name);
  } finally {
    await store.close();
  }
}

describe('a damaged write-ahead log at start', () => {
  it('a healthy log (also with frames of its earlier generation after the end) opens with every committed app', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-wal-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const path = await killedStore(dir, ['a', 'b'], ['c', 'd', 'e']);
    assert.equal(lostCommits(await readFile(`${path}-wal`)), 0);
    assert.deepEqual(await appsIn(path), ['a', 'b', 'c', 'd', 'e']);
    const churned = await killedStore(join(dir, 'churn'), ['a'], ['x'], true);
    assert.equal(lostCommits(await readFile(`${churned}-wal`)), 0);
    assert.ok((await appsIn(churned)).includes('x'));
  });

  it('damage in the middle: refused, naming the log and the way out; the file and the log are left as they were', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-wal-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const path = await killedStore(dir, ['a', 'b'], ['c', 'd', 'e']);
    // Frames 0-1 are c's transaction, 2-3 d's, 4-5 e's: c's page is damaged, d and e were committed after it.
    await damageFrame(path, 0);
    const [file, wal] = [await readFile(path), await readFile(`${path}-wal`)];
    const store = new SqliteStore({ path, historyThread: false });
    await assert.rejects(store.open(), (err: unknown) => {
      assert.ok(err instanceof StoreError, String(err));
      assert.equal(
        err.message,
        `store at ${path} cannot be opened: its write-ahead log ${path}-wal is damaged, and opening it would silently drop 2 committed change(s) after the damage; ` +
          `berth will not start on it. Restore the store and its -wal file from a backup, or move ${path}-wal away to start from the state the database file holds.`,
      );
      return true;
    });
    assert.deepEqual(await readFile(path), file);
    assert.deepEqual(await readFile(`${path}-wal`), wal);
    // The way out the message gives works: without the log, the state the file holds.
    await rm(`${path}-wal`);
    assert.deepEqual(await appsIn(path), ['a', 'b']);
  });

  it('damage in the last transaction only (a write torn by a crash, never acknowledged): opens without it, as SQLite recovers', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-wal-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const path = await killedStore(dir, ['a'], ['b', 'c']);
    const frames = ((await readFile(`${path}-wal`)).length - 32) / FRAME;
    await damageFrame(path, frames - 2);
    assert.deepEqual(await appsIn(path), ['a', 'b']);
  });
});
