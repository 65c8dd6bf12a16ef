import type Database from 'better-sqlite3';
import { ConfigError, StoreError } from '../errors.js';
import { MAX_FIELD_LENGTHS, rowValuesInto, type HistoryColumns, type HistoryRowValues } from './history-columns.js';
import { HISTORY_QUERY_SQL, encodeCursor, historyParams, type HistoryParams } from './history-query.js';
import type { AppCount, HistoryCut, RecordKey } from './history-shares.js';
import type { HistoryItem, HistoryPage, HistoryQuery, HistoryRetention, RequestRecord } from './store.js';

/** One row of the `requests` table as better-sqlite3 returns it. */
export interface RequestRow {
  id: number;
  time: number;
  app: string;
  method: string | null;
  path: string | null;
  status: number | null;
  duration_ms: number | null;
  bytes_in: number | null;
  bytes_out: number | null;
  client: string | null;
  waited: number | null;
  instance: string | null;
  /** The gateway that served it (PostgreSQL stores shared by several gateways; absent in SQLite). */
  gateway?: string | null;
}

type RequestWrite = Omit<RequestRow, 'id' | 'gateway'>;

export { MAX_FIELD_LENGTHS };

/** Rows deleted per statement while pruning; the event loop runs between chunks. */
export const PRUNE_CHUNK = 5000;

/** Apps counted (or ranked) per statement while pruning by count: ~3 ms each with 10 records an app. */
export const PRUNE_APPS_PER_STEP = 1000;

export function recordToRow(record: RequestRecord, index: number): RequestWrite {
  const time = typeof record.timeMs === 'number' ? record.timeMs : Number.NaN;
  if (!Number.isFinite(time)) throw new StoreError(`request record ${index} has no valid time`);
  if (typeof record.app !== 'string' || record.app === '') throw new StoreError(`request record ${index} has no app`);
  return {
    time,
    app: record.app,
    method: text(record.method, MAX_FIELD_LENGTHS.method),
    path: text(record.path, MAX_FIELD_LENGTHS.path),
    status: integer(record.status),
    duration_ms: Number.isFinite(record.durationMs) ? record.durationMs : null,
    bytes_in: integer(record.bytesIn),
    bytes_out: integer(record.bytesOut),
    client: text(record.client, MAX_FIELD_LENGTHS.client),
    waited: record.waited ? 1 : 0,
    instance: text(record.instance, MAX_FIELD_LENGTHS.instance),
  };
}

export function rowToRecord(row: RequestRow): HistoryItem {
  const record: HistoryItem = {
    time: new Date(row.time),
    app: row.app,
    method: row.method ?? '',
    path: row.path ?? '',
    status: row.status ?? 0,
    durationMs: row.duration_ms ?? 0,
    bytesIn: row.bytes_in ?? 0,
    bytesOut: row.bytes_out ?? 0,
    client: row.client ?? '',
    waited: row.waited === 1,
  };
  if (row.instance !== null) record.instance = row.instance;
  if (row.gateway) record.gateway = row.gateway;
  return record;
}

const INSERT_ROWS_SQL = 'INSERT INTO requests (time, app, method, path, status, duration_ms, bytes_in, bytes_out, client, waited, instance) VALUES';
const VALUES_ROW = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
/** Rows per multi-row insert: 352 bound values, far below SQLite's limit of 32,766. */
export const ROWS_PER_INSERT = 32;

/**
 * Up to a chunk of the records older than a cutoff, exactly `time < ?` whatever order the
 * clock wrote them in, found through requests_app_time (app, time DESC, id DESC) alone: there
 * is no index on time by itself (migration 9), which every insert paid for. The apps are
 * walked as a loose index scan (each next app one index seek, never a scan of the rows), and
 * within each app the old records are one index range. A prune costs the apps' count in
 * seeks plus the rows it deletes.
 */
export const DELETE_OLDER_SQL = `
  DELETE FROM requests WHERE id IN (
    WITH RECURSIVE apps(app) AS (
      SELECT (SELECT app FROM requests ORDER BY app LIMIT 1)
      UNION ALL
      SELECT (SELECT app FROM requests WHERE app > apps.app ORDER BY app LIMIT 1) FROM apps WHERE apps.app IS NOT NULL
    )
    SELECT r.id FROM apps JOIN requests r ON r.app = apps.app AND r.time < ? LIMIT ?
  )`;

/**
 * The record counts of the apps after @after ('' for the first: an app has a name), @limit apps at a
 * time (count retention, history-shares.ts): one walk along requests_app_time, which
 * holds every column read, so never a table row. Counting visits each index entry either
 * way; a loose index scan (DELETE_OLDER_SQL's) would add a seek per app to that, which
 * measured slower with 10,000 apps. It runs only when the page-wise count(*) says the
 * history holds more than maxRecords.
 */
export const APP_COUNTS_SQL = `
  SELECT app, count(*) AS count FROM requests
  WHERE app > @after
  GROUP BY app ORDER BY app LIMIT @limit`;

/** Each named app's record at one rank (0-based, newest first): one index seek and `offset` steps per app. */
export const RECORDS_AT_RANK_SQL = `
  SELECT c.app AS app, r.time AS time, r.id AS id
  FROM (SELECT j.value AS app,
               (SELECT id FROM requests WHERE app = j.value ORDER BY time DESC, id DESC LIMIT 1 OFFSET @offset) AS id
        FROM json_each(@apps) j) c
  JOIN requests r ON r.id = c.id`;

/** Up to a chunk of the records older than each app's cut ([app, time, id] in @cuts): one index range per app. */
export const DELETE_CUT_SQL = `
  DELETE FROM requests WHERE id IN (
    SELECT r.id FROM json_each(@cuts) j
    JOIN requests r ON r.app = json_extract(j.value, '$[0]')
      AND (r.time, r.id) < (json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]'))
    LIMIT @chunk
  )`;

/** A cut list as DELETE_CUT_SQL reads it. */
export const cutsJson = (cuts: readonly HistoryCut[]): string => JSON.stringify(cuts.map((c) => [c.app, c.time, c.id]));

/** The history statements, prepared once per open. */
export function prepareHistory(db: Database.Database) {
  const insert = db.prepare<[RequestWrite]>(
    `INSERT INTO requests (time, app, method, path, status, duration_ms, bytes_in, bytes_out, client, waited, instance)
     VALUES (@time, @app, @method, @path, @status, @duration_ms, @bytes_in, @bytes_out, @client, @waited, @instance)`,
  );
  const append = db.transaction((records: readonly RequestRecord[]) => {
    records.forEach((record, i) => insert.run(recordToRow(record, i)));
  });
  const insertValues = db.prepare<[HistoryRowValues]>(`${INSERT_ROWS_SQL} ${VALUES_ROW}`);
  const insertGroup = db.prepare<unknown[]>(`${INSERT_ROWS_SQL} ${Array<string>(ROWS_PER_INSERT).fill(VALUES_ROW).join(', ')}`);
  // Checked and truncated already (toColumns): only binding is left. Whole groups of rows go in
  // one statement each: one call into SQLite per group instead of per row (~1.4 µs a row less,
  // on a thread that shares the gateway's cores). Rows keep their order, so ids do too.
  // The group is spread into arguments, not passed as one array: better-sqlite3 reads an array's
  // items one by one through V8's generic property lookup (Object::Get, ~350 instructions a
  // value), its arguments straight from the call. ~4,000 instructions a row less.
  const appendColumns = db.transaction((cols: HistoryColumns) => {
    const values: HistoryRowValues = [0, '', null, null, null, null, null, null, null, 0, null];
    const group = new Array<unknown>(ROWS_PER_INSERT * values.length);
    let i = 0;
    for (; i + ROWS_PER_INSERT <= cols.length; i += ROWS_PER_INSERT) {
      for (let r = 0; r < ROWS_PER_INSERT; r++) {
        rowValuesInto(cols, i + r, values);
        for (let c = 0; c < values.length; c++) group[r * values.length + c] = values[c];
      }
      insertGroup.run(...group);
    }
    for (; i < cols.length; i++) insertValues.run(rowValuesInto(cols, i, values));
  });
  const query = db.prepare<[HistoryParams], RequestRow>(HISTORY_QUERY_SQL);
  const deleteOlder = db.prepare<[number, number]>(DELETE_OLDER_SQL);
  // Two subqueries: SQLite answers min() or max() from the end of the key only when it is alone in its query.
  const idSpan = db.prepare<[], { low: number | null; high: number | null }>('SELECT (SELECT min(id) FROM requests) AS low, (SELECT max(id) FROM requests) AS high');
  // No WHERE: SQLite counts the b-tree's cells page by page, without reading a row.
  const total = db.prepare<[], number>('SELECT count(*) FROM requests').pluck();
  const appCounts = db.prepare<[{ after: string; limit: number }], AppCount>(APP_COUNTS_SQL);
  const atRank = db.prepare<[{ apps: string; offset: number }], { app: string } & RecordKey>(RECORDS_AT_RANK_SQL);
  const deleteCut = db.prepare<[{ cuts: string; chunk: number }]>(DELETE_CUT_SQL);
  return {
    /** All records or none, in one IMMEDIATE transaction. */
    append(records: readonly RequestRecord[]): void {
      if (records.length > 0) append.immediate(records);
    },
    /** A batch of columns (the writer thread's), all or none, in one IMMEDIATE transaction. */
    appendColumns(cols: HistoryColumns): void {
      if (cols.length > 0) appendColumns.immediate(cols);
    },
    query(q: HistoryQuery): HistoryPage {
      const { params, limit } = historyParams(q);
      const rows = query.all(params);
      const page: HistoryPage = { items: rows.slice(0, limit).map(rowToRecord) };
      const last = rows[limit - 1];
      if (rows.length > limit && last) page.next = encodeCursor(last.time, last.id, q.app);
      return page;
    },
    /** Deletes up to one chunk of records older than `cutoff` (epoch ms); returns how many. */
    deleteOlderChunk: (cutoff: number): number => deleteOlder.run(cutoff, PRUNE_CHUNK).changes,
    /**
     * False when at most `maxRecords` records are kept: surely so when the ids in use span
     * no more (two lookups at the ends of the primary key), else by SQLite's page-wise count.
     */
    mayExceed(maxRecords: number): boolean {
      const { low, high } = idSpan.get() ?? { low: null, high: null };
      if (low === null || high === null || high - low + 1 <= maxRecords) return false;
      return (total.get() ?? 0) > maxRecords;
    },
    appsPerStep: PRUNE_APPS_PER_STEP,
    appCounts: (after: string, limit: number): AppCount[] => appCounts.all({ after, limit }),
    recordsAtRank(apps: readonly string[], offset: number): Map<string, RecordKey> {
      const rows = atRank.all({ apps: JSON.stringify(apps), offset });
      return new Map(rows.map((r) => [r.app, { time: r.time, id: r.id }]));
    },
    /** Deletes up to one chunk of the records older than each app's cut; returns how many. */
    deleteCutChunk: (cuts: readonly HistoryCut[]): number => deleteCut.run({ cuts: cutsJson(cuts), chunk: PRUNE_CHUNK }).changes,
  };
}

/** Checks a retention; Infinity turns a bound off. */
export function checkRetention(retention: HistoryRetention): void {
  const { maxRecords, maxAgeMs } = retention;
  if (!(maxRecords === Number.POSITIVE_INFINITY || (Number.isSafeInteger(maxRecords) && maxRecords >= 0))) {
    throw new ConfigError(`history retention: maxRecords must be a whole number ≥ 0, not ${String(maxRecords)}`);
  }
  if (!(maxAgeMs === Number.POSITIVE_INFINITY || (Number.isFinite(maxAgeMs) && maxAgeMs >= 0))) {
    throw new ConfigError(`history retention: maxAgeMs must be ≥ 0, not ${String(maxAgeMs)}`);
  }
}

function text(value: unknown, max: number): string | null {
  if (typeof value !== 'string') return null;
  return value.length > max ? value.slice(0, max) : value;
}

function integer(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? Math.round(value) : null;
}
