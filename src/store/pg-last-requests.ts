import type pg from 'pg';
import { inTransaction } from './pg-connect.js';
import { checkLastRequest } from './last-request-rows.js';
import type { LastRequest } from './store.js';

export async function pgLastRequests(pool: pg.Pool): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ app: string; at: string }>('SELECT app, at FROM last_requests');
  return new Map(rows.map((r) => [r.app, Number(r.at)]));
}

/** Saves `changed` and forgets `gone`, in one transaction; every entry is checked before anything is written. */
export async function savePgLastRequests(pool: pg.Pool, changed: readonly LastRequest[], gone: readonly string[]): Promise<void> {
  changed.forEach(checkLastRequest);
  if (changed.length + gone.length === 0) return;
  await inTransaction(pool, async (c) => {
    if (changed.length > 0) {
      await c.query(
        `INSERT INTO last_requests (app, at) SELECT * FROM unnest($1::text[], $2::bigint[])
         ON CONFLICT (app) DO UPDATE SET at = excluded.at`,
        [changed.map(([app]) => app), changed.map(([, at]) => at)],
      );
    }
    if (gone.length > 0) await c.query('DELETE FROM last_requests WHERE app = ANY($1::text[])', [gone]);
  });
}
