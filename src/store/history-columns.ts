import { StoreError } from '../errors.js';
import type { RequestRecord } from './store.js';

/**
 * Longest text kept per field. A request line may be as long as the proxy's header
 * limit allows (16 KiB by default); keeping that much for every record would let a
 * client inflate the history by orders of magnitude within its record count.
 */
export const MAX_FIELD_LENGTHS = { method: 32, path: 2048, client: 256, instance: 256 } as const;

/**
 * A batch of request records as columns: what is posted to the history writer
 * thread. Numbers travel in typed arrays whose buffers are transferred, not
 * copied; text is truncated here already, so a long request line is never
 * cloned whole. NaN in a numeric column stands for NULL.
 */
export interface HistoryColumns {
  length: number;
  time: Float64Array;
  status: Float64Array;
  durationMs: Float64Array;
  bytesIn: Float64Array;
  bytesOut: Float64Array;
  waited: Uint8Array;
  app: string[];
  method: Array<string | null>;
  path: Array<string | null>;
  client: Array<string | null>;
  instance: Array<string | null>;
}

/** The values of one `requests` row, in the column order of the insert. */
export type HistoryRowValues = [number, string, string | null, string | null, number | null, number | null, number | null, number | null, string | null, number, string | null];

/**
 * Turns records into columns, checking them as the in-process writer does: one
 * record without a valid time or app fails the whole batch (all or none).
 */
export function toColumns(records: readonly RequestRecord[]): HistoryColumns {
  const n = records.length;
  const cols: HistoryColumns = {
    length: n,
    time: new Float64Array(n),
    status: new Float64Array(n),
    durationMs: new Float64Array(n),
    bytesIn: new Float64Array(n),
    bytesOut: new Float64Array(n),
    waited: new Uint8Array(n),
    app: new Array<string>(n),
    method: new Array<string | null>(n),
    path: new Array<string | null>(n),
    client: new Array<string | null>(n),
    instance: new Array<string | null>(n),
  };
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    const time = typeof r.timeMs === 'number' ? r.timeMs : Number.NaN;
    if (!Number.isFinite(time)) throw new StoreError(`request record ${i} has no valid time`);
    if (typeof r.app !== 'string' || r.app === '') throw new StoreError(`request record ${i} has no app`);
    cols.time[i] = time;
    cols.app[i] = r.app;
    cols.method[i] = text(r.method, MAX_FIELD_LENGTHS.method);
    cols.path[i] = text(r.path, MAX_FIELD_LENGTHS.path);
    cols.status[i] = integer(r.status);
    cols.durationMs[i] = Number.isFinite(r.durationMs) ? r.durationMs : Number.NaN;
    cols.bytesIn[i] = integer(r.bytesIn);
    cols.bytesOut[i] = integer(r.bytesOut);
    cols.client[i] = text(r.client, MAX_FIELD_LENGTHS.client);
    cols.waited[i] = r.waited ? 1 : 0;
    cols.instance[i] = text(r.instance, MAX_FIELD_LENGTHS.instance);
  }
  return cols;
}

/** The buffers to transfer with a batch (the typed arrays own theirs alone). */
export function transferables(cols: HistoryColumns): ArrayBuffer[] {
  return [cols.time, cols.status, cols.durationMs, cols.bytesIn, cols.bytesOut, cols.waited].map((a) => a.buffer as ArrayBuffer);
}

/**
 * Row `i` of a batch, as the insert binds it, written into `out`: the writer binds one
 * reused array per row (better-sqlite3 binds an array's items in order), where a fresh
 * array spread into arguments cost ~1.5 µs a row.
 */
export function rowValuesInto(cols: HistoryColumns, i: number, out: HistoryRowValues): HistoryRowValues {
  out[0] = cols.time[i]!;
  out[1] = cols.app[i]!;
  out[2] = cols.method[i] ?? null;
  out[3] = cols.path[i] ?? null;
  out[4] = orNull(cols.status[i]!);
  out[5] = orNull(cols.durationMs[i]!);
  out[6] = orNull(cols.bytesIn[i]!);
  out[7] = orNull(cols.bytesOut[i]!);
  out[8] = cols.client[i] ?? null;
  out[9] = cols.waited[i]!;
  out[10] = cols.instance[i] ?? null;
  return out;
}

/** Row `i` of a batch, as a new array. */
export function rowValues(cols: HistoryColumns, i: number): HistoryRowValues {
  return rowValuesInto(cols, i, [0, '', null, null, null, null, null, null, null, 0, null]);
}

/**
 * The records of a batch again, for a HistoryStore that takes only records.
 * A NULL text reads back as '' and a NULL number as NaN, which the store
 * keeps as it reads them back (rowToRecord): the history is the same.
 */
export function recordsOf(cols: HistoryColumns): RequestRecord[] {
  const records = new Array<RequestRecord>(cols.length);
  for (let i = 0; i < cols.length; i++) {
    const record: RequestRecord = {
      timeMs: cols.time[i]!,
      app: cols.app[i]!,
      method: cols.method[i] ?? '',
      path: cols.path[i] ?? '',
      status: cols.status[i]!,
      durationMs: cols.durationMs[i]!,
      bytesIn: cols.bytesIn[i]!,
      bytesOut: cols.bytesOut[i]!,
      client: cols.client[i] ?? '',
      waited: cols.waited[i] === 1,
    };
    const instance = cols.instance[i];
    if (instance !== null && instance !== undefined) record.instance = instance;
    records[i] = record;
  }
  return records;
}

function orNull(value: number): number | null {
  return Number.isNaN(value) ? null : value;
}

/** A text field as the history keeps it: truncated to `max`, NULL when not a string. */
export function text(value: unknown, max: number): string | null {
  if (typeof value !== 'string') return null;
  return value.length > max ? value.slice(0, max) : value;
}

/** An integer field as the history keeps it: rounded, NaN (NULL) when not a finite number. */
export function integer(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.round(value) : Number.NaN;
}
