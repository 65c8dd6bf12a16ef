import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { StoreError } from '../../src/errors.js';
import type { AppSpec } from '../../src/spec/types.js';
import { LATEST_SCHEMA_VERSION } from '../../src/store/migrations.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { appSpec } from '../support/spec-fixture.js';

function spec(name: string, extra: Partial<AppSpec> = {}): AppSpec {
  return appSpec(name, extra);
}

let root = '';
let counter = 0;
before(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'berth-store-'));
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** A fresh path per test, in a directory that does not exist yet. */
function freshPath(): string {
  counter += 1;
  return join(root, `case-${counter}`, 'data', 'berth.db');
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

/** Asserts that open() fails with a StoreError whose message names the path and matches `what`. */
async function assertRefused(path: string, what: RegExp): Promise<void> {
  const store = new SqliteStore({ path });
  await assert.rejects(store.open(), (err: unknown) => {
    assert.ok(err instanceof StoreError, `expected StoreError, got ${String(err)}`);
    assert.equal(err.code, 'store_error');
    assert.ok(err.message.includes(path), `message should name the path: ${err.message}`);
    assert.match(err.message, what);
    return true;
  });
}

describe('SqliteStore', () => {
  it('creates an owner-only directory and persists apps across reopen', async () => {
    const path = freshPath();
    const store = new SqliteStore({ path });
    await assert.rejects(store.listApps(), StoreError, 'not open before open()');
    await store.open();
    const results = await store.applyApps([spec('zeta'), spec('alpha', { env: { A: '1' } })], 'config');
    assert.deepEqual(results.map((r) => [r.app.name, r.app.revision, r.changed]), [
      ['zeta', 1, true],
      ['alpha', 1, true],
    ]);
    await store.close();
    assert.equal((await fs.stat(join(path, '..'))).mode & 0o777, 0o700);

    await withStore(path, async (reopened) => {
      const apps = await reopened.listApps();
      assert.deepEqual(apps.map((a) => a.name), ['alpha', 'zeta']);
      const alpha = apps[0]!;
      assert.deepEqual(alpha.spec, spec('alpha', { env: { A: '1' } }));
      assert.equal(alpha.source, 'config');
      assert.ok(alpha.createdAt instanceof Date && alpha.updatedAt instanceof Date);
      assert.equal(alpha.specHash.length, 16);
      assert.deepEqual(await reopened.getApp('zeta'), apps[1]);
      assert.equal(await reopened.getApp('nope'), undefined);
    });
  });

  it('bumps the revision only when the spec changes', async () => {
    await withStore(freshPath(), async (store) => {
      const [first] = await store.applyApps([spec('web', { env: { A: '1', B: '2' } })], 'config');
      // Same content with keys in another order hashes the same: no new revision.
      const [same] = await store.applyApps([spec('web', { env: { B: '2', A: '1' } })], 'config');
      assert.equal(same!.changed, false);
      assert.equal(same!.app.revision, 1);
      assert.deepEqual(same!.app.updatedAt, first!.app.updatedAt);

      const [changed] = await store.applyApps([spec('web', { env: { A: '9' } })], 'config');
      assert.equal(changed!.changed, true);
      assert.equal(changed!.app.revision, 2);
      assert.deepEqual(changed!.app.createdAt, first!.app.createdAt);
      assert.ok(changed!.app.updatedAt >= first!.app.updatedAt);

      // A move between sources keeps the revision but records the new owner.
      const [moved] = await store.applyApps([spec('web', { env: { A: '9' } })], 'api');
      assert.deepEqual([moved!.changed, moved!.app.revision, moved!.app.source], [false, 2, 'api']);
      assert.equal((await store.getApp('web'))!.source, 'api');
    });
  });

  it('removes apps in the same batch and reports whether a deleted app existed', async () => {
    await withStore(freshPath(), async (store) => {
      await store.applyApps([spec('a'), spec('b')], 'config');
      const results = await store.applyApps([spec('c')], 'config', ['a', 'never-existed']);
      assert.deepEqual(results.map((r) => r.app.name), ['c']);
      assert.deepEqual((await store.listApps()).map((a) => a.name), ['b', 'c']);
      assert.equal(await store.deleteApp('b'), true);
      assert.equal(await store.deleteApp('b'), false);
      assert.deepEqual((await store.listApps()).map((a) => a.name), ['c']);
    });
  });

  it('applies a batch whole or not at all (a spec that cannot be serialized)', async () => {
    await withStore(freshPath(), async (store) => {
      await store.applyApps([spec('kept')], 'config');
      // JSON.stringify throws on a BigInt, halfway through the batch.
      const bad = spec('bad', { env: { N: 1n as unknown as string } });
      await assert.rejects(store.applyApps([spec('first'), spec('kept', { port: 9 }), bad], 'config', ['kept']));
      assert.deepEqual((await store.listApps()).map((a) => [a.name, a.revision, a.spec.port]), [['kept', 1, 8080]]);
    });
  });

  it('applies a batch whole or not at all (SQLite refuses the second insert)', async () => {
    const path = freshPath();
    await withStore(path, async (store) => {
      // Another connection adds a trigger that makes SQLite itself fail mid-batch.
      const raw = new Database(path);
      raw.exec(`CREATE TRIGGER refuse BEFORE INSERT ON apps WHEN NEW.name = 'second'
                BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END`);
      raw.close();
      await assert.rejects(store.applyApps([spec('first'), spec('second')], 'config'), (err: unknown) => {
        assert.ok(err instanceof StoreError);
        assert.match(err.message, /refused by test trigger/);
        return true;
      });
      assert.deepEqual(await store.listApps(), []);
    });
  });

  it('runs migrations once: reopening changes neither schema nor metadata', async () => {
    const path = freshPath();
    await withStore(path, (s) => s.applyApps([spec('a')], 'config'));
    const read = () => {
      const raw = new Database(path, { readonly: true });
      const state = {
        version: raw.pragma('user_version', { simple: true }),
        meta: raw.prepare('SELECT key, value FROM meta ORDER BY key').all(),
        journal: raw.pragma('journal_mode', { simple: true }),
      };
      raw.close();
      return state;
    };
    const first = read();
    assert.equal(first.version, LATEST_SCHEMA_VERSION);
    assert.equal(first.journal, 'wal');
    await withStore(path, async (s) => assert.equal((await s.listApps()).length, 1));
    assert.deepEqual(read(), first);
  });

  it('refuses a store written by a newer berth', async () => {
    const path = freshPath();
    await withStore(path, async () => {});
    const raw = new Database(path);
    raw.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 1}`);
    raw.close();
    const newer = LATEST_SCHEMA_VERSION + 1;
    await assertRefused(path, new RegExp(`newer berth \\(schema ${newer} > ${LATEST_SCHEMA_VERSION}\\); upgrade berth`));
  });

  it('refuses a file of random bytes and leaves it untouched', async () => {
    const path = freshPath();
    await fs.mkdir(join(path, '..'), { recursive: true });
    const bytes = Buffer.alloc(8192, 0);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + 13) % 251;
    await fs.writeFile(path, bytes);
    await assertRefused(path, /not a SQLite database/);
    assert.deepEqual(await fs.readFile(path), bytes);
  });

  it('refuses a truncated database', async () => {
    const path = freshPath();
    const many = Array.from({ length: 200 }, (_, i) => spec(`app-${i}`, { env: { PAD: 'x'.repeat(500) } }));
    await withStore(path, (s) => s.applyApps(many, 'config'));
    const { size } = await fs.stat(path);
    await fs.truncate(path, Math.floor(size / 2));
    await assertRefused(path, /malformed/);
  });

  it('refuses a database that fails quick_check', async () => {
    const path = freshPath();
    const many = Array.from({ length: 100 }, (_, i) => spec(`app-${i}`, { env: { PAD: 'x'.repeat(500) } }));
    await withStore(path, async (s) => {
      await s.applyApps(many, 'config');
      await s.applyApps([], 'config', many.map((m) => m.name));
      for (const m of many) await s.forgetDeleted(m.name);
    });
    // Emptying the freelist in the header (bytes 32-39) leaves the freed pages owned by
    // nothing: every read still works, only a consistency check can tell.
    const bytes = await fs.readFile(path);
    assert.ok(bytes.readUInt32BE(36) > 0, 'the deletes should have freed pages');
    bytes.fill(0, 32, 40);
    await fs.writeFile(path, bytes);
    await assertRefused(path, /malformed \(quick_check: Page \d+: never used/);
  });

  it('refuses a directory in place of the file', async () => {
    const path = freshPath();
    await fs.mkdir(path, { recursive: true });
    await assertRefused(path, /is a directory/);
  });

  it('refuses a path whose parent is a regular file', async () => {
    const parent = join(freshPath(), '..');
    await fs.mkdir(join(parent, '..'), { recursive: true });
    await fs.writeFile(parent, 'not a directory');
    await assertRefused(join(parent, 'berth.db'), /not a directory/);
  });

  it('refuses a SQLite database that belongs to another program', async () => {
    const path = freshPath();
    await fs.mkdir(join(path, '..'), { recursive: true });
    const raw = new Database(path);
    raw.exec('CREATE TABLE notes (body TEXT)');
    raw.close();
    await assertRefused(path, /another program/);
  });

  it('refuses a file it may not read (as an unprivileged user when run as root)', async () => {
    const path = freshPath();
    await withStore(path, async () => {});
    await fs.chmod(path, 0o000);
    if (process.getuid?.() !== 0) return assertRefused(path, /permission denied/);
    // root reads any file, so open the store from a child process running as "nobody".
    for (let dir = join(path, '..'); dir.startsWith(root); dir = join(dir, '..')) await fs.chmod(dir, 0o755);
    const module = fileURLToPath(new URL('../../src/store/sqlite-store.js', import.meta.url));
    const script = `import { SqliteStore } from ${JSON.stringify(module)};
      new SqliteStore({ path: process.argv[1] }).open().then(() => console.log('opened'), (e) => console.log(e.message));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script, path], {
      uid: 65534,
      gid: 65534,
      encoding: 'utf8',
    });
    assert.ok(child.stdout.includes(path), `child output: ${child.stdout}${child.stderr}`);
    assert.match(child.stdout, /permission denied/);
  });

  it('treats an empty (0-byte) file as a new store', async () => {
    const path = freshPath();
    await fs.mkdir(join(path, '..'), { recursive: true });
    await fs.writeFile(path, '');
    await withStore(path, async (store) => {
      await store.applyApps([spec('a')], 'api');
      assert.equal((await store.getApp('a'))!.source, 'api');
    });
  });

  it('works in memory for tests of other parts', async () => {
    await withStore(':memory:', async (store) => {
      const [r] = await store.applyApps([spec('m')], 'config');
      assert.equal(r!.app.revision, 1);
    });
  });
});
