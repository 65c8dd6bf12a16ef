import type pg from 'pg';
import { toColumns, type HistoryColumns } from './history-columns.js';
import { encodeCursor, historyParams } from './history-query.js';
import { PRUNE_CHUNK, rowToRecord, type RequestRow } from './history-rows.js';
import { pruneHistory } from './history-prune.js';
import type { AppCount, RecordKey } from './history-shares.js';
import type { HistoryWriter } from './history-writer.js';
import type { HistoryPage, HistoryQuery, HistoryRetention, RequestRecord } from './store.js';

/**
 * One INSERT per batch: the columns go as arrays and unnest() turns them back into
 * rows, so a batch of any size is one statement and one round trip (and all or none).
 */
const INSERT_SQL = `
  INSERT INTO requests (time, app, method, path, status, duration_ms, bytes_in, bytes_out, client, waited, instance, gateway)
  SELECT *, $12::text FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::integer[], $6::double precision[],
                       $7::bigint[], $8::bigint[], $9::text[], $10::smallint[], $11::text[])`;

/** The same query as SQLite's (history-query.ts): keyset pages, newest first. */
const QUERY_SQL = `
  SELECT id, time, app, method, path, status, duration_ms, bytes_in, bytes_out, client, waited, instance, gateway
  FROM requests
  WHERE app = $1
    AND time >= $2
    AND (time, id) < ($3::bigint, $4::bigint)
    AND ($5::integer IS NULL OR status BETWEEN $5 AND $6::integer)
  ORDER BY time DESC, id DESC
  LIMIT $7`;

const nullable = (a: ArrayLike<number>) => Array.from(a, (v) => (Number.isNaN(v) ? null : v));

function insertParams(cols: HistoryColumns): unknown[] {
  return [
    Array.from(cols.time, Math.round),
    cols.app,
    cols.method,
    cols.path,
    nullable(cols.status),
    nullable(cols.durationMs),
    nullable(cols.bytesIn),
    nullable(cols.bytesOut),
    cols.client,
    Array.from(cols.waited),
    cols.instance,
  ];
}

/**
 * The HistoryWriter of the PostgreSQL store. pg never blocks the event loop (the
 * work is the server's), so no thread: each batch is written directly, checked and
 * truncated by toColumns exactly as SQLite's thread writer does.
 */
export function pgHistoryWriter(pool: pg.Pool, gateway: () => string | undefined): HistoryWriter {
  return {
    async append(records: readonly RequestRecord[]): Promise<void> {
      if (records.length === 0) return;
      // Every record this process writes is a request its own proxy served: tagged with its gateway.
      await pool.query(INSERT_SQL, [...insertParams(toColumns(records)), gateway() ?? null]);
    },
    async appendColumns(cols: HistoryColumns): Promise<void> {
      if (cols.length === 0) return;
      await pool.query(INSERT_SQL, [...insertParams(cols), gateway() ?? null]);
    },
    prune: (retention, nowMs) => prunePg(pool, retention, nowMs),
    close: async () => undefined,
  };
}

export async function queryPgHistory(pool: pg.Pool, query: HistoryQuery): Promise<HistoryPage> {
  const { params: p, limit } = historyParams(query);
  const { rows } = await pool.query<RequestRow>(QUERY_SQL, [p.app, p.since, p.beforeTime, p.beforeId, p.statusLow, p.statusHigh, p.fetch]);
  const page: HistoryPage = { items: rows.slice(0, limit).map(rowToRecord) };
  const last = rows[limit - 1];
  if (rows.length > limit && last) page.next = encodeCursor(last.time, last.id, query.app);
  return page;
}

/** DELETE_OLDER_SQL's PostgreSQL form: requests_time (kept in this schema) finds them. */
const DELETE_OLDER_SQL = 'DELETE FROM requests WHERE id IN (SELECT id FROM requests WHERE time < $1 LIMIT $2)';

/** APP_COUNTS_SQL's (history-rows.ts), all apps at once (LIMIT NULL): the planner reads requests or requests_app_time once. */
const APP_COUNTS_SQL = `
  SELECT app, count(*)::int AS count FROM requests
  WHERE app > $1
  GROUP BY app ORDER BY app LIMIT $2`;

const RECORDS_AT_RANK_SQL = `
  SELECT c.app, r.time::float8 AS time, r.id::float8 AS id
  FROM unnest($1::text[]) AS c(app)
  CROSS JOIN LATERAL (SELECT time, id FROM requests WHERE app = c.app ORDER BY time DESC, id DESC OFFSET $2 LIMIT 1) r`;

const DELETE_CUT_SQL = `
  DELETE FROM requests WHERE id IN (
    SELECT r.id FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS c(app, time, id)
    CROSS JOIN LATERAL (SELECT id FROM requests WHERE app = c.app AND (time, id) < (c.time, c.id) LIMIT $4) r
    LIMIT $4
  )`;

/**
 * The same prune as SQLite's (pruneHistory): age first, then each app down to its fair
 * share of maxRecords, in chunks of PRUNE_CHUNK rows: each chunk a short transaction, so
 * a large prune never holds locks that the appends would wait on.
 */
function prunePg(pool: pg.Pool, retention: HistoryRetention, nowMs: number): Promise<number> {
  const count = async (sql: string, params: unknown[]) => (await pool.query(sql, params)).rowCount ?? 0;
  return pruneHistory(
    {
      deleteOlderChunk: (cutoff) => count(DELETE_OLDER_SQL, [cutoff, PRUNE_CHUNK]),
      // Surely not over when the ids in use span no more (both ends of the primary key); else count(*), a quarter of what counting by app reads.
      async mayExceed(maxRecords) {
        const { rows } = await pool.query<{ low: string | null; high: string | null }>('SELECT min(id) AS low, max(id) AS high FROM requests');
        const { low, high } = rows[0] ?? { low: null, high: null };
        if (low === null || high === null || Number(high) - Number(low) + 1 <= maxRecords) return false;
        const total = await pool.query<{ n: string }>('SELECT count(*) AS n FROM requests');
        return Number(total.rows[0]?.n ?? 0) > maxRecords;
      },
      appsPerStep: Number.POSITIVE_INFINITY,
      appCounts: async (after, limit) => (await pool.query<AppCount>(APP_COUNTS_SQL, [after, Number.isFinite(limit) ? limit : null])).rows,
      async recordsAtRank(apps, offset) {
        const { rows } = await pool.query<{ app: string } & RecordKey>(RECORDS_AT_RANK_SQL, [apps, offset]);
        return new Map(rows.map((r) => [r.app, { time: r.time, id: r.id }]));
      },
      deleteCutChunk: (cuts) => count(DELETE_CUT_SQL, [cuts.map((c) => c.app), cuts.map((c) => c.time), cuts.map((c) => c.id), PRUNE_CHUNK]),
    },
    retention,
    nowMs,
  );
}

/** Copies rows as they are (ids, so cursors and order survive), inside the caller's transaction: `berth store copy`. */
export async function insertRawRequests(client: pg.PoolClient, rows: readonly RequestRow[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <K extends keyof RequestRow>(k: K) => rows.map((r) => r[k]);
  await client.query(
      `INSERT INTO requests (id, time, app, method, path, status, duration_ms, bytes_in, bytes_out, client, waited, instance)
       OVERRIDING SYSTEM VALUE
       SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::integer[], $7::double precision[],
                            $8::bigint[], $9::bigint[], $10::text[], $11::smallint[], $12::text[])`,
    [col('id'), col('time'), col('app'), col('method'), col('path'), col('status'), col('duration_ms'), col('bytes_in'), col('bytes_out'), col('client'), col('waited'), col('instance')],
  );
}
