import type Database from 'better-sqlite3';
import { StoreError } from '../errors.js';
import type { UsageQuery, UsageRow } from './store.js';

/** One row of the `usage` table as better-sqlite3 returns it. */
export interface UsageDbRow {
  app: string;
  day: string;
  running_s: number;
  paused_s: number;
  idle_s: number;
  requests: number;
}

const USAGE_COLUMNS = 'app, day, running_s, paused_s, idle_s, requests';

/** The usage statements, prepared once per open. */
export function prepareUsage(db: Database.Database) {
  // Upsert-add: a new (app, day) starts at the row's figures, an existing one grows by them.
  const add = db.prepare<[UsageDbRow]>(
    `INSERT INTO usage (${USAGE_COLUMNS}) VALUES (@app, @day, @running_s, @paused_s, @idle_s, @requests)
     ON CONFLICT (app, day) DO UPDATE SET
       running_s = running_s + excluded.running_s,
       paused_s  = paused_s + excluded.paused_s,
       idle_s    = idle_s + excluded.idle_s,
       requests  = requests + excluded.requests`,
  );
  const query = db.prepare<[{ since: string | null; app: string | null }], UsageDbRow>(
    `SELECT ${USAGE_COLUMNS} FROM usage
     WHERE (@since IS NULL OR day >= @since) AND (@app IS NULL OR app = @app)
     ORDER BY app, day`,
  );
  const prune = db.prepare<[string]>('DELETE FROM usage WHERE day < ?');
  const addAll = db.transaction((rows: readonly UsageDbRow[]) => {
    for (const row of rows) add.run(row);
  });
  return {
    /** All rows or none; every row is checked before anything is written. */
    add(rows: readonly UsageRow[]): void {
      const checked = rows.map(checkUsageRow);
      if (checked.length > 0) addAll.immediate(checked);
    },
    /** One statement: the table holds one row per app and day, so even years of it delete in a moment. */
    prune(beforeDay: string): number {
      return prune.run(checkDay(beforeDay)).changes;
    },
    query(q: UsageQuery): UsageRow[] {
      return query.all({ since: q.sinceDay ?? null, app: q.app ?? null }).map((r) => ({
        app: r.app,
        day: r.day,
        runningS: r.running_s,
        pausedS: r.paused_s,
        idleS: r.idle_s,
        requests: r.requests,
      }));
    },
  };
}

/** Checks a prune's first kept day (shared with the PostgreSQL store). */
export function checkDay(day: string): string {
  if (typeof day !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new StoreError(`usage prune: day must be YYYY-MM-DD, not ${String(day)}`);
  return day;
}

/** Checks one row before it is written (shared with the PostgreSQL store). */
export function checkUsageRow(row: UsageRow, index: number): UsageDbRow {
  const bad = (what: string) => new StoreError(`usage row ${index} (${String(row.app)} ${String(row.day)}): ${what}`);
  if (typeof row.app !== 'string' || row.app === '') throw bad('no app');
  if (typeof row.day !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(row.day)) throw bad('day must be YYYY-MM-DD');
  for (const [name, value] of [['runningS', row.runningS], ['pausedS', row.pausedS], ['idleS', row.idleS]] as const) {
    if (!Number.isFinite(value) || value < 0) throw bad(`${name} must be a finite number ≥ 0, not ${value}`);
  }
  if (!Number.isSafeInteger(row.requests) || row.requests < 0) throw bad(`requests must be a whole number ≥ 0, not ${row.requests}`);
  return { app: row.app, day: row.day, running_s: row.runningS, paused_s: row.pausedS, idle_s: row.idleS, requests: row.requests };
}
