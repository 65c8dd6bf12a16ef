import type Database from 'better-sqlite3';
import { StoreError } from '../errors.js';
import type { StoredFailure } from './store.js';

/** A row of app_failures, as both stores read it (PostgreSQL gives its BIGINT as text). */
export interface FailureRow {
  app: string;
  reason: string | null;
  last_error: string;
  public_error: string;
  last_output: string | null;
  failed_at: number | string;
}

export const FAILURE_COLUMNS = 'app, reason, last_error, public_error, last_output, failed_at';

export function rowToFailure(row: FailureRow): StoredFailure {
  return {
    ...(row.reason === null ? {} : { reason: row.reason }),
    lastError: row.last_error,
    publicError: row.public_error,
    ...(row.last_output === null ? {} : { lastOutput: row.last_output }),
    failedAt: new Date(Number(row.failed_at)),
  };
}

/** The row to write for `failure`, checked before anything is written (shared with the PostgreSQL store). */
export function failureToRow(app: string, failure: StoredFailure): FailureRow {
  if (typeof app !== 'string' || app === '') throw new StoreError('app failure: no app');
  const at = failure.failedAt.getTime();
  if (!Number.isSafeInteger(at) || at < 0) throw new StoreError(`failure of ${app}: no valid moment (${String(failure.failedAt)})`);
  if (typeof failure.lastError !== 'string' || typeof failure.publicError !== 'string') throw new StoreError(`failure of ${app}: no error text`);
  return { app, reason: failure.reason ?? null, last_error: failure.lastError, public_error: failure.publicError, last_output: failure.lastOutput ?? null, failed_at: at };
}

/** The kept-failure statements, prepared once per open. */
export function prepareFailures(db: Database.Database) {
  const all = db.prepare<[], FailureRow>(`SELECT ${FAILURE_COLUMNS} FROM app_failures`);
  const put = db.prepare<[FailureRow]>(
    `INSERT INTO app_failures (${FAILURE_COLUMNS}) VALUES (@app, @reason, @last_error, @public_error, @last_output, @failed_at)
     ON CONFLICT (app) DO UPDATE SET reason = excluded.reason, last_error = excluded.last_error, public_error = excluded.public_error,
       last_output = excluded.last_output, failed_at = excluded.failed_at`,
  );
  const drop = db.prepare<[string]>('DELETE FROM app_failures WHERE app = ?');
  return {
    all: (): Map<string, StoredFailure> => new Map(all.all().map((r) => [r.app, rowToFailure(r)])),
    save(app: string, failure: StoredFailure | undefined): void {
      if (failure) put.run(failureToRow(app, failure));
      else drop.run(app);
    },
    /** Forgets the app's failure; inside the caller's transaction (an apply of a changed spec, a finished delete). */
    forget: (app: string): void => void drop.run(app),
  };
}
