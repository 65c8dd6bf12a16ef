import { SpecError } from '../errors.js';
import type { HistoryQuery } from './store.js';

/**
 * How a history query becomes SQL: pure functions, no database. A page is read newest
 * first with keyset pagination: the cursor is the (time, id) of the last record of the
 * previous page, and the next page is everything strictly older than it. Records
 * written while a client pages are therefore never repeated nor skipped (offsets would
 * shift under them): they are newer than the first page, so never seen by that walk,
 * unless they carry an older time, in which case they show up where they belong.
 */

export const DEFAULT_HISTORY_LIMIT = 100;
export const MAX_HISTORY_LIMIT = 1000;

/** Bounds that no real record reaches, so one prepared statement serves every query. */
const NO_LOWER_TIME = -Number.MAX_SAFE_INTEGER;
const NO_UPPER = Number.MAX_SAFE_INTEGER;

/**
 * One statement for every query; unused filters get bounds that match everything.
 * `since` is inclusive and `until` exclusive, so consecutive windows never overlap.
 * The (app, time DESC, id DESC) index answers the app, the time range, the cursor and
 * the order; status is checked on the rows read.
 */
export const HISTORY_QUERY_SQL = `
  SELECT id, time, app, method, path, status, duration_ms, bytes_in, bytes_out, client, waited, instance
  FROM requests
  WHERE app = @app
    AND time >= @since AND time < @until
    AND (time, id) < (@afterTime, @afterId)
    AND (@statusLow IS NULL OR status BETWEEN @statusLow AND @statusHigh)
  ORDER BY time DESC, id DESC
  LIMIT @fetch`;

/** The named parameters of HISTORY_QUERY_SQL. */
export interface HistoryParams {
  app: string;
  since: number;
  until: number;
  afterTime: number;
  afterId: number;
  statusLow: number | null;
  statusHigh: number | null;
  /** One more than the page size: the extra row says whether there is a next page. */
  fetch: number;
}

/** Checks a query and turns it into statement parameters; bad input is a SpecError naming the field. */
export function historyParams(query: HistoryQuery): { params: HistoryParams; limit: number } {
  const limit = clampLimit(query.limit);
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const status = statusRange(query.status);
  return {
    limit,
    params: {
      app: query.app,
      since: query.since === undefined ? NO_LOWER_TIME : epochMs(query.since, 'since'),
      until: query.until === undefined ? NO_UPPER : epochMs(query.until, 'until'),
      afterTime: after?.time ?? NO_UPPER,
      afterId: after?.id ?? NO_UPPER,
      statusLow: status?.low ?? null,
      statusHigh: status?.high ?? null,
      fetch: limit + 1,
    },
  };
}

/** Default 100; anything else is brought into 1..1000. */
export function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_HISTORY_LIMIT;
  return Math.min(MAX_HISTORY_LIMIT, Math.max(1, Math.floor(limit)));
}

/** An exact status is a range of one; `4xx` is 400..499. */
export function statusRange(status: HistoryQuery['status']): { low: number; high: number } | undefined {
  if (status === undefined) return undefined;
  if (typeof status === 'number') {
    if (Number.isInteger(status) && status >= 0 && status <= 999) return { low: status, high: status };
  } else {
    const match = /^([1-5])xx$/.exec(String(status));
    if (match) {
      const low = Number(match[1]) * 100;
      return { low, high: low + 99 };
    }
  }
  throw invalid('status', `must be an HTTP status (0-999) or a class such as 4xx, not ${JSON.stringify(status)}`);
}

/** The opaque cursor: base64url of "time:id". */
export function encodeCursor(time: number, id: number): string {
  return Buffer.from(`${time}:${id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): { time: number; id: number } {
  const match = /^(-?\d{1,16}):(\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const decoded = match ? { time: Number(match[1]), id: Number(match[2]) } : undefined;
  // Node's base64url decoder skips characters it does not know; re-encoding catches
  // a cursor that was cut, padded or edited.
  if (!decoded || encodeCursor(decoded.time, decoded.id) !== cursor) {
    throw invalid('cursor', 'is not a cursor returned by a previous page');
  }
  return decoded;
}

function epochMs(date: Date, field: string): number {
  const ms = date instanceof Date ? date.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw invalid(field, 'must be a valid date');
  return ms;
}

function invalid(path: string, message: string): SpecError {
  return new SpecError([{ path, message }], 'history query');
}
