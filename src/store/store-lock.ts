import { mkdir, readFile, realpath, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ConflictError } from '../errors.js';

/** A held store lock; release() gives it back (only while the file still names this process). */
export interface StoreLock {
  readonly path: string;
  release(): Promise<void>;
}

/**
 * One gateway per SQLite store file. Two on one file share no lease: each
 * reconciles, wakes and idle-stops the same containers, and at its start one
 * reverts the other's updates still rolling out as unfinished. (A second
 * `berth serve` that then failed to listen had done that already.) Several
 * gateways share a PostgreSQL store instead.
 *
 * The lock is a file beside the store naming the owner's process id, created
 * exclusively. One naming a process that no longer runs (a gateway killed with
 * -9) is stale and taken over; the same process may take it again (a restart
 * in place).
 */
export async function lockStoreFile(storePath: string, pid = process.pid): Promise<StoreLock> {
  // Owner-only, as the store creates it. The directory's real path: one store reached through a symlink is one store.
  await mkdir(dirname(storePath), { recursive: true, mode: 0o700 });
  const path = join(await realpath(dirname(storePath)), `${basename(storePath)}.lock`);
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(path, `${pid}\n`, { flag: 'wx', mode: 0o600 });
      return { path, release: () => releaseIfOurs(path, pid) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = await ownerOf(path);
    if (owner !== undefined && owner !== pid && isRunning(owner)) {
      throw new ConflictError(
        `another gateway (process ${owner}) serves the store ${storePath}; stop it first (one gateway per SQLite file; several share a postgres:// store). If no gateway runs, remove ${path}`,
      );
    }
    // Stale, ours, or unreadable (a writer that died between create and write): taken over, once.
    if (attempt > 0) throw new ConflictError(`cannot take the lock ${path} of the store ${storePath}: another gateway is starting on it`);
    await unlink(path).catch(() => undefined);
  }
}

async function ownerOf(path: string): Promise<number | undefined> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function releaseIfOurs(path: string, pid: number): Promise<void> {
  if ((await ownerOf(path)) === pid) await unlink(path).catch(() => undefined);
}
