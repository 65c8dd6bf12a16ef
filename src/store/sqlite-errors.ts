import { statSync } from 'node:fs';
import { StoreError, StoreUnavailableError, messageOf, type BerthError } from '../errors.js';

/**
 * Turns a failure to open or read the store into one clear StoreError that names the
 * file and what is wrong with it. The gateway refuses to start on such an error: a
 * store it cannot read must never be mistaken for an empty one, because an empty
 * desired state would make the reconciler remove every app's container.
 */
export function storeOpenError(path: string, err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const { what, advice } = describe(err);
  const detail = messageOf(err);
  const suffix = what === detail ? '' : ` (${detail})`;
  return new StoreError(`store at ${path} cannot be opened: ${what}${suffix}; ${advice}`, { cause: err });
}

/** The refusal for a file that SQLite opened but that must not be used. */
export function damagedStoreError(path: string, what: string): StoreError {
  return new StoreError(`store at ${path} cannot be opened: ${what}; ${DAMAGED}`);
}

const DAMAGED =
  'berth will not start on it. Restore it from a backup, or move it away to start over with no apps.';
const DENIED = "berth will not start on it. Check the owner and mode of the file and of its directory.";

/** A short, human phrase for a SQLite result code or a Node errno, and what to do about it. */
function describe(err: unknown): { what: string; advice: string } {
  const code = (err as { code?: unknown } | null)?.code;
  const other = { what: messageOf(err), advice: 'berth will not start on it.' };
  if (typeof code !== 'string') return other;
  if (code === 'SQLITE_NOTADB') return { what: 'not a SQLite database', advice: DAMAGED };
  if (code.startsWith('SQLITE_CORRUPT')) return { what: 'database disk image is malformed', advice: DAMAGED };
  // Not "permission denied": no owner or mode fixes a read-only mount.
  if (code === 'EROFS') return { what: 'the file system is read-only', advice: 'berth will not start on it. Mount it read-write, or point store at a writable place.' };
  if (code.startsWith('SQLITE_READONLY') || ['SQLITE_PERM', 'SQLITE_AUTH', 'EACCES', 'EPERM'].includes(code)) {
    return { what: 'permission denied', advice: DENIED };
  }
  if (code.startsWith('SQLITE_CANTOPEN')) return { what: 'the file cannot be opened', advice: DENIED };
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return { what: 'it is locked by another process', advice: 'is another berth using the same store?' };
  }
  if (code === 'SQLITE_FULL' || code === 'ENOSPC') return { what: 'the disk is full', advice: other.advice };
  if (code.startsWith('SQLITE_IOERR') || code === 'EIO') return { what: 'I/O error', advice: other.advice };
  if (code === 'ENOTDIR') return { what: 'a parent of the path is not a directory', advice: other.advice };
  return other;
}

/**
 * A failure of one operation on the open store, as the caller hears it. What comes from the
 * store's surroundings (a full disk, a read-only mount, another process holding the write
 * lock, an I/O error) is no fault of the request and passes once they are fixed: 503
 * store_unavailable with Retry-After, naming the store and the reason, while running apps keep
 * being served. Anything else (a constraint, a damaged page) stays a store_error.
 */
export function storeRunError(path: string, what: string, err: unknown): BerthError {
  const code = sqliteCode(err);
  const reason = code === undefined ? undefined : surroundings(code);
  const detail = messageOf(err);
  if (reason === undefined) return new StoreError(`store at ${path}: cannot ${what}: ${detail}`, { cause: err });
  return new StoreUnavailableError(
    `store at ${path}: cannot ${what}: ${reason} (${detail}); running apps keep being served, try again once it is fixed`,
    { cause: err },
  );
}

/** True for SQLITE_BUSY and its extended codes: another connection holds the lock this one needs. */
export function isSqliteBusy(err: unknown): boolean {
  return sqliteCode(err)?.startsWith('SQLITE_BUSY') === true;
}

function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The reason in a few words for a result code of the surroundings; undefined for any other. */
function surroundings(code: string): string | undefined {
  if (code === 'SQLITE_FULL') return 'the disk is full';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'another process holds its write lock';
  if (code === 'SQLITE_READONLY_DBMOVED') return 'its file was moved or deleted while open';
  if (code.startsWith('SQLITE_READONLY')) return 'it cannot be written (read-only)';
  if (code.startsWith('SQLITE_IOERR')) return 'I/O error';
  if (code.startsWith('SQLITE_CANTOPEN')) return 'its files cannot be opened';
  return undefined;
}

/** A file's identity: its device and inode. */
export interface FileId {
  dev: number;
  ino: number;
}

/** The identity of the file at `path` now; undefined when there is none (or it cannot be looked at). */
export function currentFileId(path: string): FileId | undefined {
  try {
    const { dev, ino } = statSync(path);
    return { dev, ino };
  } catch {
    return undefined;
  }
}

/**
 * Whether the store path still names the file that was opened (`now` undefined: nothing is
 * there any more). In WAL mode SQLite does not notice its file deleted or replaced: commits
 * go on into the -wal of a file no later start would read, each answered as done. Pure.
 */
export function storeFileMoved(opened: FileId, now: FileId | undefined): boolean {
  return now === undefined || now.dev !== opened.dev || now.ino !== opened.ino;
}

/** The refusal of a write to a store whose file was deleted or replaced under berth. */
export function storeMovedError(path: string, what: string): BerthError {
  return new StoreUnavailableError(
    `store at ${path}: cannot ${what}: its file was deleted or replaced while berth runs, so nothing written now would be kept; ` +
      'running apps keep being served. Put the file back (or restore one), then restart berth',
  );
}
