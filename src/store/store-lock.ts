import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, mkdir, readdir, readFile, realpath, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ConflictError } from '../errors.js';
import { storeOpenError } from './sqlite-errors.js';

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
 * in place). With the id goes the process's identity (the boot and its start
 * time, from /proc): after a reboot, or once the id is another process's, the
 * lock is stale too, so a lock left by a crash never keeps a gateway from starting.
 */
export async function lockStoreFile(storePath: string, pid = process.pid): Promise<StoreLock> {
  try {
    return await takeLock(storePath, pid);
  } catch (err) {
    // The lock is the first write beside the store, so a data dir that is read-only or
    // full fails here, before SQLite would: refused as the store's own open is, naming the
    // store and why (exit 6), not as a bare errno about a lock draft (exit 1).
    if (err instanceof ConflictError) throw err;
    throw storeOpenError(storePath, err);
  }
}

async function takeLock(storePath: string, pid: number): Promise<StoreLock> {
  // Owner-only, as the store creates it.
  await mkdir(dirname(storePath), { recursive: true, mode: 0o700 });
  const path = `${await realStorePath(storePath)}.lock`;
  const identity = processIdentity(pid);
  const text = `${pid}${identity ? ` ${identity}` : ''}\n`;
  for (let attempt = 0; ; attempt++) {
    if (await createWith(path, text)) {
      await sweepLeftovers(path);
      return { path, release: () => releaseIfOurs(path, pid) };
    }
    const seen = await readFile(path, 'utf8').catch(() => undefined);
    const owner = seen === undefined ? undefined : ownerIn(seen);
    if (owner !== undefined && owner.pid !== pid && isRunning(owner)) {
      throw new ConflictError(
        `another gateway (process ${owner.pid}) serves the store ${storePath}; stop it first (one gateway per SQLite file; several share a postgres:// store). If no gateway runs, remove ${path}`,
      );
    }
    // Stale, ours, or unreadable (an older berth's writer that died between create and write): taken over, once.
    if (attempt > 0) throw new ConflictError(`cannot take the lock ${path} of the store ${storePath}: another gateway is starting on it`);
    if (seen !== undefined) await takeOver(path, seen, pid);
  }
}

/**
 * Creates the lock file with its text in one step, or answers false when one exists.
 * A file created empty and written after would be read, in between, as a stale lock
 * by a gateway starting at the same moment, which would take it over.
 */
async function createWith(path: string, text: string): Promise<boolean> {
  const draft = `${path}.${randomBytes(6).toString('hex')}.new`;
  // On a full disk the draft is created and its write fails: it must not stay behind.
  await writeFile(draft, text, { mode: 0o600 }).catch(async (err: unknown) => {
    await unlink(draft).catch(() => undefined);
    throw err;
  });
  try {
    await link(draft, path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // A filesystem without hard links: created exclusively, then written (the window above stays open there).
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') return createExclusive(path, text);
    throw err;
  } finally {
    await unlink(draft).catch(() => undefined);
  }
}

/** How old a lock draft or a moved-aside lock must be to be another attempt's leftover, not one under way. */
export const LOCK_LEFTOVER_AGE_MS = 60_000;

/**
 * Removes the drafts (`.new`) and moved-aside locks (`.stale`) that a gateway killed
 * with -9 between two steps left beside the lock. Only old ones: a young one may be a
 * gateway starting at this moment, whose next step needs it.
 */
async function sweepLeftovers(path: string, now = Date.now()): Promise<void> {
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix) || !/\.(new|stale)$/.test(name)) continue;
    const file = join(dir, name);
    const info = await stat(file).catch(() => undefined);
    if (info && now - info.mtimeMs > LOCK_LEFTOVER_AGE_MS) await unlink(file).catch(() => undefined);
  }
}

async function createExclusive(path: string, text: string): Promise<boolean> {
  try {
    await writeFile(path, text, { flag: 'wx', mode: 0o600 });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/**
 * Removes the stale lock that read `seen`, and only it. Two gateways starting together
 * both see it stale; unlinking by name, the later one would remove the lock the earlier
 * one had just taken in its place, and both would run. So the file is first moved aside
 * (atomic: one mover gets it) and looked at: a lock that is not the stale one is put back.
 */
async function takeOver(path: string, seen: string, pid: number): Promise<void> {
  const aside = `${path}.${pid}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // another gateway moved it first
    throw err;
  }
  const moved = await readFile(aside, 'utf8').catch(() => undefined);
  if (moved !== seen) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

/**
 * The file a store path names in the end: one store reached through a symlinked
 * directory, or a symlink to the file itself, is one store (SQLite follows both).
 * A store not made yet is named by its directory's real path.
 */
async function realStorePath(storePath: string): Promise<string> {
  try {
    return await realpath(storePath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return join(await realpath(dirname(storePath)), basename(storePath));
  }
}

interface LockOwner {
  pid: number;
  /** The boot and start time of that process when it took the lock, if /proc told. */
  identity?: string;
}

async function ownerOf(path: string): Promise<LockOwner | undefined> {
  return ownerIn(await readFile(path, 'utf8').catch(() => ''));
}

function ownerIn(text: string): LockOwner | undefined {
  const [id, identity] = text.trim().split(' ');
  const pid = Number(id);
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  return identity ? { pid, identity } : { pid };
}

/** Whether the lock's owner still runs: its id is alive and, when the lock says, still the same process. */
function isRunning(owner: LockOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    // EPERM: it runs, as another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const fields = statFields(owner.pid);
  // A gateway killed with -9 stays a zombie until its parent reaps it (a supervisor that restarts it at once
  // may still hold it): its id answers kill(0), yet it serves nothing.
  if (fields?.[0] === 'Z' || fields?.[0] === 'X') return false;
  return owner.identity === undefined || owner.identity === identityOf(fields);
}

/** The fields of /proc/<pid>/stat after "pid (comm) " (the state first); undefined where /proc has none. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** This boot's id and the process's start time in clock ticks since boot (Linux /proc); undefined where /proc has neither. */
export function processIdentity(pid: number): string | undefined {
  return identityOf(statFields(pid));
}

function identityOf(fields: string[] | undefined): string | undefined {
  // The start time is the 22nd field of the line, the 20th after the comm.
  const start = fields?.[19];
  if (!start) return undefined;
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return boot ? `${boot}:${start}` : undefined;
  } catch {
    return undefined;
  }
}

async function releaseIfOurs(path: string, pid: number): Promise<void> {
  if ((await ownerOf(path))?.pid === pid) await unlink(path).catch(() => undefined);
}
