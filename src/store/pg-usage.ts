import type pg from 'pg';
import { inTransaction } from './pg-connect.js';
import type { UsageQuery, UsageRow } from './store.js';
import { checkDay, checkUsageRow } from './usage-rows.js';

/**
 * Adds each row's figures to its app and day, all rows in one transaction; every
 * row is checked before anything is written. One upsert per row: a multi-row
 * ON CONFLICT cannot touch the same (app, day) twice, and a batch may.
 */
export async function addPgUsage(pool: pg.Pool, rows: readonly UsageRow[]): Promise<void> {
  const checked = rows.map(checkUsageRow);
  if (checked.length === 0) return;
  await inTransaction(pool, async (c) => {
    for (const r of checked) {
      await c.query(
        `INSERT INTO usage (app, day, running_s, paused_s, idle_s, requests) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (app, day) DO UPDATE SET
           running_s = usage.running_s + excluded.running_s,
           paused_s  = usage.paused_s + excluded.paused_s,
           idle_s    = usage.idle_s + excluded.idle_s,
           requests  = usage.requests + excluded.requests`,
        [r.app, r.day, r.running_s, r.paused_s, r.idle_s, r.requests],
      );
    }
  });
}

export async function queryPgUsage(pool: pg.Pool, q: UsageQuery): Promise<UsageRow[]> {
  const { rows } = await pool.query<{ app: string; day: string; running_s: number; paused_s: number; idle_s: number; requests: number }>(
    `SELECT app, day, running_s, paused_s, idle_s, requests FROM usage
     WHERE ($1::text IS NULL OR day >= $1) AND ($2::text IS NULL OR app = $2)
     ORDER BY app, day`,
    [q.sinceDay ?? null, q.app ?? null],
  );
  return rows.map((r) => ({ app: r.app, day: r.day, runningS: r.running_s, pausedS: r.paused_s, idleS: r.idle_s, requests: r.requests }));
}

/** Drops the rows of days before `beforeDay`; returns how many went. */
export async function prunePgUsage(pool: pg.Pool, beforeDay: string): Promise<number> {
  const { rowCount } = await pool.query('DELETE FROM usage WHERE day < $1', [checkDay(beforeDay)]);
  return rowCount ?? 0;
}
