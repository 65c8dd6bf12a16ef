import type Database from 'better-sqlite3';
import { ConfigError, StoreError } from '../errors.js';
import { MAX_FIELD_LENGTHS, rowValuesInto, type HistoryColumns, type HistoryRowValues } from './history-columns.js';
import { HISTORY_QUERY_SQL, encodeCursor, historyParams, type HistoryParams } from './history-query.js';
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
  const deleteUpTo = db.prepare<[number, number]>(
    'DELETE FROM requests WHERE id IN (SELECT id FROM requests WHERE id <= ? ORDER BY id LIMIT ?)',
  );
  const maxId = db.prepare<[], number | null>('SELECT max(id) FROM requests').pluck();
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
    /** Deletes up to one chunk of records whose id is at most `id`; returns how many. */
    deleteUpToChunk: (id: number): number => deleteUpTo.run(id, PRUNE_CHUNK).changes,
    /**
     * The id at and below which records exceed `maxRecords`. Ids are handed out in
     * insert order and only ever removed from the old end, so the newest maxRecords
     * records are those above max(id) - maxRecords: one index lookup instead of a count.
     * Where pruning by age left a gap in that range, fewer than maxRecords are kept, never more.
     */
    countThreshold(maxRecords: number): number | undefined {
      const max = maxId.get();
      if (max === null || max === undefined) return undefined;
      const threshold = max - maxRecords;
      return threshold >= 1 ? threshold : undefined;
    },
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
