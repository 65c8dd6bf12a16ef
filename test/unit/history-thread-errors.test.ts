// The history writer thread's failures as the main thread hears them. Its errors crossed as
// text, so a full disk or a lock held by another process stayed a store_error (500, logged
// as a fault of berth) where the main connection's own say 503 store_unavailable and why;
// and a thread started after the store file was deleted opened the path anew, making an
// empty database there for the next start to read as a store with no apps. Now the SQLite
// code crosses with the text and is classified alike, and the thread neither makes nor
// writes a file other than the one the gateway opened.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { BerthError, httpStatusOf } from '../../src/errors.js';
import { threadFailure } from '../../src/store/history-writer.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { RequestRecord } from '../../src/store/store.js';

const T0 = 1_700_000_000_000;
let root = '';
let n = 0;
before(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'berth-history-thread-errors-'));
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

function rec(time: number): RequestRecord {
  return { timeMs: time, app: 'web', method: 'GET', path: '/', status: 200, durationMs: 1, bytesIn: 0, bytesOut: 0, client: '127.0.0.1', waited: false };
}

async function fileStore(busyTimeoutMs?: number): Promise<{ store: SqliteStore; path: string }> {
  const path = join(root, `s${n++}`, 'berth.db');
  const store = new SqliteStore({ path, busyTimeoutMs });
  await store.open();
  return { store, path };
}

function unavailable(pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof BerthError, String(err));
    assert.equal(err.code, 'store_unavailable', err.message);
    assert.equal(httpStatusOf(err), 503);
    assert.match(err.message, pattern);
    return true;
  };
}

describe('the history writer thread failing', () => {
  it('threadFailure: a code of the surroundings is store_unavailable, any other stays store_error; moved is the moved refusal', () => {
    const full = threadFailure('/s/berth.db', 'record 1 request(s)', { id: 1, ok: false, error: 'database or disk is full', code: 'SQLITE_FULL' });
    assert.equal(full.code, 'store_unavailable');
    assert.match(full.message, /^store at \/s\/berth\.db: cannot record 1 request\(s\): the disk is full \(database or disk is full\)/);
    const constraint = threadFailure('/s/berth.db', 'x', { id: 1, ok: false, error: 'CHECK constraint failed', code: 'SQLITE_CONSTRAINT_CHECK' });
    assert.equal(constraint.code, 'store_error');
    assert.equal(threadFailure('/s/berth.db', 'x', { id: 1, ok: false, error: 'boom' }).code, 'store_error');
    const moved = threadFailure('/s/berth.db', 'x', { id: 1, ok: false, error: 'gone', moved: true });
    assert.equal(moved.code, 'store_unavailable');
    assert.match(moved.message, /deleted or replaced/);
  });

  it('a lock held by another process past the busy timeout is 503 store_unavailable, saying so', async (t) => {
    const { store, path } = await fileStore(100);
    const other = new Database(path);
    t.after(async () => {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
      await store.close();
    });
    other.exec('BEGIN IMMEDIATE');
    await assert.rejects(store.appendRequests([rec(T0)]), unavailable(/another process holds its write lock/));
    other.exec('ROLLBACK');
    // Let go, the same thread writes again.
    await store.appendRequests([rec(T0 + 1)]);
    assert.equal((await store.queryRequests({ app: 'web', limit: 10 })).items.length, 1);
  });

  it('started after the file was deleted: refused as moved, and no empty store is made at the path', async (t) => {
    const { store, path } = await fileStore();
    t.after(() => store.close());
    await fs.unlink(path);
    await assert.rejects(store.appendRequests([rec(T0)]), unavailable(/deleted or replaced/));
    await assert.rejects(fs.access(path), { code: 'ENOENT' });
  });

  it('a running thread stops writing once the file is replaced; the file put there is left as it is', async (t) => {
    const { store, path } = await fileStore();
    t.after(() => store.close());
    await store.appendRequests([rec(T0)]);
    const other = `${path}.restored`;
    await fs.copyFile(path, other);
    await fs.rename(other, path);
    const before = await fs.readFile(path);
    await assert.rejects(store.appendRequests([rec(T0 + 1)]), unavailable(/deleted or replaced/));
    assert.deepEqual(await fs.readFile(path), before);
  });
});
