import { constants, promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from '../errors.js';
import { BERTH_APPLICATION_ID, LATEST_SCHEMA_VERSION, runMigrations, userVersion } from './migrations.js';
import { damagedStoreError, storeOpenError } from './sqlite-errors.js';
import { lostCommits } from './wal-check.js';

/** How long a write waits for another connection's lock before failing with SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

/**
 * The longest the gateway's own connection blocks its thread in one wait for a lock, once
 * open: the rest of BUSY_TIMEOUT_MS is waited between tries, with the event loop free.
 */
export const BUSY_SLICE_MS = 25;

/**
 * Opens the store's database file, checks that it is a healthy berth store and brings
 * its schema up to date. Every failure is a StoreError naming the path; nothing here
 * ever replaces or truncates an existing file.
 */
export async function openSqlite(path: string): Promise<{ db: Database.Database; wasEmpty: boolean }> {
  const inMemory = path === ':memory:';
  const existed = inMemory ? false : await preflight(path);
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
    checkHealthy(db, path);
    // A file that was there but held no schema (0 bytes, say): to SQLite a new store,
    // to the gateway a warning sign that the real one was lost (see Gateway.start).
    const wasEmpty = existed && userVersion(db) === 0;
    if (!inMemory) {
      // WAL makes each commit one append to the -wal file: a crash mid-write leaves the
      // last committed state intact, and readers never block the writer. synchronous=FULL
      // fsyncs the WAL at every commit, so a desired state the API answered for survives
      // a power cut too (NORMAL could lose the last commits). History and usage are
      // written in batches, so the extra fsync is paid per batch, not per request.
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new StoreError(`store at ${path} cannot use WAL journaling (got "${String(mode)}")`);
      db.pragma('synchronous = FULL');
    }
    runMigrations(db);
    return { db, wasEmpty };
  } catch (err) {
    db?.close();
    throw storeOpenError(path, err);
  }
}

/**
 * Filesystem checks before SQLite sees the path, for messages SQLite cannot give
 * ("unable to open database file" says neither which part nor why). The directory is
 * owner-only because the admin token is written beside the store.
 */
/** Returns whether the file already existed. */
async function preflight(path: string): Promise<boolean> {
  try {
    await fs.mkdir(dirname(path), { recursive: true, mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
      // mkdir -p says EEXIST when a component of the path is a regular file.
      if (err.code !== 'EEXIST') throw err;
      throw new StoreError(`store at ${path} cannot be opened: ${err.path ?? dirname(path)} is not a directory`);
    });
    // The directory must be writable too: WAL keeps its -wal and -shm files there.
    await fs.access(dirname(path), constants.W_OK | constants.X_OK);
    const stat = await fs.stat(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined; // a new store
      throw err;
    });
    if (stat?.isDirectory()) throw new StoreError(`store at ${path} cannot be opened: it is a directory, not a file`);
    if (stat) await fs.access(path, constants.R_OK | constants.W_OK);
    if (stat) await checkWal(path);
    await ownerOnly(path, stat !== undefined);
    return stat !== undefined;
  } catch (err) {
    throw storeOpenError(path, err);
  }
}

/**
 * Before SQLite opens the store (and recovers its log, dropping what follows a
 * damaged frame): a log whose damage would take committed changes with it is
 * refused, file and log left as they are (see wal-check.ts).
 */
async function checkWal(path: string): Promise<void> {
  const wal = await fs.readFile(`${path}-wal`).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  const lost = wal ? lostCommits(wal) : 0;
  if (lost > 0) {
    throw new StoreError(
      `store at ${path} cannot be opened: its write-ahead log ${path}-wal is damaged, and opening it would silently drop ${lost} committed change(s) after the damage; ` +
        `berth will not start on it. Restore the store and its -wal file from a backup, or move ${path}-wal away to start from the state the database file holds.`,
    );
  }
}

/**
 * The store holds the specs' secret literals (and token hashes): its file is
 * readable by its owner only, whatever the umask or the directory's mode. SQLite
 * gives the -wal and -shm files the mode of the database file when it creates them;
 * ones left by an older berth are narrowed too.
 */
async function ownerOnly(path: string, exists: boolean): Promise<void> {
  // A 0-byte file is a new store to SQLite; made here, it is born 0600.
  if (!exists) await fs.writeFile(path, '', { flag: 'wx', mode: 0o600 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    const info = await fs.stat(file).catch(() => undefined);
    if (info && (info.mode & 0o077) !== 0) await fs.chmod(file, info.mode & 0o700);
  }
}

/**
 * Refuses a file that is not a SQLite database, is damaged, belongs to another
 * program, or was written by a newer berth. A 0-byte file passes as a new store:
 * SQLite itself treats it as an empty database.
 */
function checkHealthy(db: Database.Database, path: string): void {
  // The first read of the header is where "file is not a database" surfaces.
  const version = userVersion(db);
  // quick_check checks every page and record (not index contents), in time linear in
  // the file's size: milliseconds for a store of apps. Problems come as rows, or as one
  // row of newline-separated lines under a "*** in database main ***" heading.
  const rows = db.pragma('quick_check', { simple: false }) as Array<Record<string, unknown>>;
  const lines = rows
    .flatMap((row) => String(Object.values(row)[0]).split('\n'))
    .filter((line) => line !== '' && !line.startsWith('***'));
  if (lines.length !== 1 || lines[0] !== 'ok') {
    throw damagedStoreError(path, `database disk image is malformed (quick_check: ${lines.slice(0, 3).join('; ')})`);
  }
  const objects = Number(db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get());
  const appId = Number(db.pragma('application_id', { simple: true }));
  if (objects > 0 && appId !== BERTH_APPLICATION_ID) {
    throw new StoreError(
      `store at ${path} is a SQLite database of another program (application_id ${appId}), ` +
        'not a berth store; point "store" at another path.',
    );
  }
  if (version > LATEST_SCHEMA_VERSION) {
    throw new StoreError(
      `store at ${path} was written by a newer berth (schema ${version} > ${LATEST_SCHEMA_VERSION}); upgrade berth`,
    );
  }
}
