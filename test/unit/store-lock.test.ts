import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, realpath, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConflictError, exitCodeOf } from '../../src/errors.js';
import { lockStoreFile, processIdentity } from '../../src/store/store-lock.js';

/** The lock file's text for `pid`: its id and identity. */
const lockText = (pid: number) => `${pid} ${processIdentity(pid)}\n`;

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
    assert.equal(await readFile(first.path, 'utf8'), lockText(process.ppid));
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
    assert.equal(await readFile(`${store}.lock`, 'utf8'), lockText(process.pid));
    await second.release();
  });

  it('takes over the lock of a gateway that no longer runs (killed with -9), and its own process may take it again', async () => {
    const store = join(dir, 'berth.db');
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    await writeFile(`${store}.lock`, `${gone}\n`);
    const lock = await lockStoreFile(store);
    assert.equal(await readFile(`${store}.lock`, 'utf8'), lockText(process.pid));
    const again = await lockStoreFile(store);
    await again.release();
    await lock.release();
    await writeFile(`${store}.lock`, 'garbage');
    await (await lockStoreFile(store)).release();
  });

  it('takes over the lock of a gateway killed with -9 that its parent has not reaped yet (a zombie)', async (t) => {
    const store = join(dir, 'zombie.db');
    // The shell starts a child and becomes `sleep 30`, which never reaps it: the child stays a zombie.
    const parent = spawn('sh', ['-c', 'sleep 0.05 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    t.after(() => parent.kill('SIGKILL'));
    const zombie = Number((await new Promise<Buffer>((resolve) => parent.stdout.once('data', resolve))).toString().trim());
    const deadline = Date.now() + 10_000;
    while (!/^\d+ \([^)]*\) Z/.test(await readFile(`/proc/${zombie}/stat`, 'utf8').catch(() => '')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.match(await readFile(`/proc/${zombie}/stat`, 'utf8'), /\) Z /, 'the child is a zombie');
    assert.doesNotThrow(() => process.kill(zombie, 0), 'a zombie still answers kill(0)');
    await writeFile(`${store}.lock`, lockText(zombie));
    const lock = await lockStoreFile(store);
    assert.equal(await readFile(`${store}.lock`, 'utf8'), lockText(process.pid));
    await lock.release();
  });

  it('takes over a lock whose process id now names another process (reused after a crash, or from before a reboot)', async () => {
    const store = join(dir, 'reused.db');
    const live = process.ppid;
    const identity = processIdentity(live)!;
    assert.match(identity, /^[0-9a-f-]{36}:\d+$/);
    // The same id, started at another time: another process now has it.
    await writeFile(`${store}.lock`, `${live} ${identity.split(':')[0]}:1\n`);
    await (await lockStoreFile(store)).release();
    // The same id and start time, from another boot.
    await writeFile(`${store}.lock`, `${live} 00000000-0000-0000-0000-000000000000:${identity.split(':')[1]}\n`);
    await (await lockStoreFile(store)).release();
    // The same process: refused. A lock from before identities were written (the id alone) holds while the id lives.
    await writeFile(`${store}.lock`, `${live} ${identity}\n`);
    await assert.rejects(lockStoreFile(store), ConflictError);
    await writeFile(`${store}.lock`, `${live}\n`);
    await assert.rejects(lockStoreFile(store), ConflictError);
  });

  it('gives a stale lock to one of two gateways starting at the same moment, never to both', async (t) => {
    // Two live processes: this one, and a child standing for the second gateway.
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    t.after(() => other.kill());
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    const race = join(dir, 'race');
    await mkdir(race);
    // Before the fix, both held the lock in about one round in twenty: the later one unlinked the lock the earlier had just taken.
    for (let round = 0; round < 150; round++) {
      const store = join(race, `s${round}.db`);
      await writeFile(`${store}.lock`, `${gone}\n`);
      const results = await Promise.allSettled([lockStoreFile(store, process.pid), lockStoreFile(store, other.pid!)]);
      const held = results.filter((r) => r.status === 'fulfilled');
      assert.equal(held.length, 1, `round ${round}: ${results.map((r) => (r.status === 'fulfilled' ? 'held' : String(r.reason))).join(' / ')}`);
      const refused = results.find((r) => r.status === 'rejected')!;
      assert.ok(refused.reason instanceof ConflictError, String(refused.reason));
      const winner = held[0] === results[0] ? process.pid : other.pid!;
      assert.equal(await readFile(`${store}.lock`, 'utf8'), lockText(winner), `round ${round}: the lock names its holder`);
    }
    // Nothing left beside the locks (drafts, stale ones moved aside).
    assert.deepEqual((await readdir(race)).filter((f) => !f.endsWith('.db.lock')), []);
  });

  it('is one lock for one store reached through a symlinked directory', async () => {
    await mkdir(join(dir, 'real'));
    await symlink(join(dir, 'real'), join(dir, 'link'));
    const first = await lockStoreFile(join(dir, 'real', 'berth.db'), process.ppid);
    assert.equal(first.path, join(await realpath(dir), 'real', 'berth.db.lock'));
    await assert.rejects(lockStoreFile(join(dir, 'link', 'berth.db')), ConflictError);
    await first.release();
  });

  it('is one lock for one store file reached through a symlink to the file itself', async () => {
    await mkdir(join(dir, 'files'));
    await mkdir(join(dir, 'elsewhere'));
    await writeFile(join(dir, 'files', 'real.db'), '');
    await symlink(join(dir, 'files', 'real.db'), join(dir, 'elsewhere', 'berth.db'));
    const first = await lockStoreFile(join(dir, 'elsewhere', 'berth.db'), process.ppid);
    assert.equal(first.path, join(await realpath(dir), 'files', 'real.db.lock'));
    await assert.rejects(lockStoreFile(join(dir, 'files', 'real.db')), ConflictError);
    await first.release();
  });

  it('removes the drafts and moved-aside locks a gateway killed between two steps left, but not one young enough to be under way', async () => {
    await mkdir(join(dir, 'left'));
    const store = join(dir, 'left', 'berth.db');
    const old = new Date(Date.now() - 10 * 60_000);
    for (const name of ['berth.db.lock.0a1b2c3d4e5f.new', 'berth.db.lock.4242.0a1b2c3d4e5f.stale']) {
      await writeFile(join(dir, 'left', name), '4242\n');
      await utimes(join(dir, 'left', name), old, old);
    }
    await writeFile(join(dir, 'left', 'berth.db.lock.ffffffffffff.new'), `${process.ppid}\n`);
    await writeFile(join(dir, 'left', 'notes.new'), 'not ours');
    const held = await lockStoreFile(store);
    assert.deepEqual((await readdir(join(dir, 'left'))).sort(), ['berth.db.lock', 'berth.db.lock.ffffffffffff.new', 'notes.new']);
    await held.release();
  });
});
