import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConflictError, exitCodeOf } from '../../src/errors.js';
import { lockStoreFile } from '../../src/store/store-lock.js';

describe('one gateway per SQLite store file (a second one ran beside the first, both acting on the same containers)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-store-lock-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('refuses a second gateway while the first runs, naming it and the way out; taken again once released', async () => {
    const store = join(dir, 'a', 'berth.db');
    // Another running process holds it: the test runner's parent.
    const first = await lockStoreFile(store, process.ppid);
    assert.equal(first.path, join(await realpath(dir), 'a', 'berth.db.lock'));
    assert.equal(await readFile(first.path, 'utf8'), `${process.ppid}\n`);
    await assert.rejects(lockStoreFile(store), (err: unknown) => {
      assert.ok(err instanceof ConflictError);
      assert.equal(exitCodeOf(err), 4);
      assert.equal(err.message, `another gateway (process ${process.ppid}) serves the store ${store}; stop it first (one gateway per SQLite file; several share a postgres:// store). If no gateway runs, remove ${first.path}`);
      return true;
    });
    await first.release();
    await assert.rejects(stat(`${store}.lock`), /ENOENT/);
    const second = await lockStoreFile(store);
    // A release by a former owner leaves the new owner's lock alone.
    await first.release();
    assert.equal(await readFile(`${store}.lock`, 'utf8'), `${process.pid}\n`);
    await second.release();
  });

  it('takes over the lock of a gateway that no longer runs (killed with -9), and its own process may take it again', async () => {
    const store = join(dir, 'berth.db');
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    await writeFile(`${store}.lock`, `${gone}\n`);
    const lock = await lockStoreFile(store);
    assert.equal(await readFile(`${store}.lock`, 'utf8'), `${process.pid}\n`);
    const again = await lockStoreFile(store);
    await again.release();
    await lock.release();
    await writeFile(`${store}.lock`, 'garbage');
    await (await lockStoreFile(store)).release();
  });

  it('is one lock for one store reached through a symlinked directory', async () => {
    await mkdir(join(dir, 'real'));
    await symlink(join(dir, 'real'), join(dir, 'link'));
    const first = await lockStoreFile(join(dir, 'real', 'berth.db'), process.ppid);
    assert.equal(first.path, join(await realpath(dir), 'real', 'berth.db.lock'));
    await assert.rejects(lockStoreFile(join(dir, 'link', 'berth.db')), ConflictError);
    await first.release();
  });
});
