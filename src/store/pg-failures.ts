import type pg from 'pg';
import { FAILURE_COLUMNS, failureToRow, rowToFailure, type FailureRow } from './failure-rows.js';
import type { StoredFailure } from './store.js';

export async function pgAppFailures(pool: pg.Pool): Promise<Map<string, StoredFailure>> {
  const { rows } = await pool.query<FailureRow>(`SELECT ${FAILURE_COLUMNS} FROM app_failures`);
  return new Map(rows.map((r) => [r.app, rowToFailure(r)]));
}

/** Keeps the app's failure (one row every gateway reads), or forgets it. */
export async function savePgAppFailure(pool: pg.Pool, app: string, failure: StoredFailure | undefined): Promise<void> {
  if (!failure) {
    await pool.query('DELETE FROM app_failures WHERE app = $1', [app]);
    return;
  }
  const r = failureToRow(app, failure);
  await pool.query(
    `INSERT INTO app_failures (${FAILURE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (app) DO UPDATE SET reason = excluded.reason, last_error = excluded.last_error, public_error = excluded.public_error,
       last_output = excluded.last_output, failed_at = excluded.failed_at`,
    [r.app, r.reason, r.last_error, r.public_error, r.last_output, r.failed_at],
  );
}
