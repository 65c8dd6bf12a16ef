// The SQLite store file deleted or replaced under the running gateway (an `rm`, a backup
// restored with `mv` over it). In WAL mode SQLite does not notice: applies went on being
// answered 200 into the -wal of a file no later start reads, and were lost at the restart.
// Now every write first checks that the path still names the file that was opened, and is
// refused (503 store_unavailable, saying what happened) when it does not.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BerthError, httpStatusOf } from '../../src/errors.js';
import { storeFileMoved } from '../../src/store/sqlite-errors.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { appSpec } from '../support/spec-fixture.js';

let root = '';
let counter = 0;
before(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'berth-store-moved-'));
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function openStore(): Promise<{ store: SqliteStore; path: string }> {
  counter += 1;
  const path = join(root, `case-${counter}`, 'berth.db');
  const store = new SqliteStore({ path, historyThread: false });
  await store.open();
  await store.applyApps([appSpec('web')], 'api');
  return { store, path };
}

function refusedAsMoved(path: string) {
  return (err: unknown) => {
    assert.ok(err instanceof BerthError, String(err));
    assert.equal(err.code, 'store_unavailable');
    assert.equal(httpStatusOf(err), 503);
    assert.ok(err.message.startsWith(`store at ${path}: cannot apply apps: its file was deleted or replaced while berth runs`), err.message);
    return true;
  };
}

describe('the store file deleted or replaced under the running gateway', () => {
  it('storeFileMoved: gone, another inode or another device is moved; the same file is not', () => {
    const opened = { dev: 1, ino: 42 };
    assert.equal(storeFileMoved(opened, { dev: 1, ino: 42 }), false);
    assert.equal(storeFileMoved(opened, undefined), true);
    assert.equal(storeFileMoved(opened, { dev: 1, ino: 43 }), true);
    assert.equal(storeFileMoved(opened, { dev: 2, ino: 42 }), true);
  });

  it('deleted: an apply is refused, not answered as kept', async (t) => {
    const { store, path } = await openStore();
    t.after(() => store.close());
    await fs.unlink(path);
    await assert.rejects(store.applyApps([appSpec('new')], 'api'), refusedAsMoved(path));
  });

  it('replaced by another file: an apply is refused, and the file put in its place is left as it is', async (t) => {
    const { store, path } = await openStore();
    t.after(() => store.close());
    const other = `${path}.restored`;
    await fs.copyFile(path, other);
    const before = await fs.readFile(other);
    await fs.rename(other, path);
    await assert.rejects(store.applyApps([appSpec('new')], 'api'), refusedAsMoved(path));
    assert.deepEqual(await fs.readFile(path), before);
  });
});
