import { StoreError, messageOf } from '../errors.js';

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
