import { BadRequestError } from '../errors.js';
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

/** Bounds that no real record reaches (a Date is within ±8.64e15 ms), so one prepared statement serves every query. */
const NO_LOWER_TIME = -Number.MAX_SAFE_INTEGER;
const NO_UPPER = Number.MAX_SAFE_INTEGER;

/**
 * One statement for every query; unused filters get bounds that match everything.
 * `since` is inclusive and `until` exclusive, so consecutive windows never overlap.
 * The (app, time DESC, id DESC) index answers the app, the time range and the order,
 * and a page starts right at its cursor, however deep. `until` and the cursor are
 * folded into one (time, id) upper bound because SQLite bounds an index range by one
 * upper constraint only: a separate `time < @until` would make every later page scan
 * from `until` down to its cursor. Status is checked on the rows read.
 */
export const HISTORY_QUERY_SQL = `
  SELECT id, time, app, method, path, status, duration_ms, bytes_in, bytes_out, client, waited, instance
  FROM requests
  WHERE app = @app
    AND time >= @since
    AND (time, id) < (@beforeTime, @beforeId)
    AND (@statusLow IS NULL OR status BETWEEN @statusLow AND @statusHigh)
  ORDER BY time DESC, id DESC
  LIMIT @fetch`;

/** The named parameters of HISTORY_QUERY_SQL. */
export interface HistoryParams {
  app: string;
  since: number;
  /** Records strictly before (beforeTime, beforeId) in (time, id) order. */
  beforeTime: number;
  beforeId: number;
  statusLow: number | null;
  statusHigh: number | null;
  /** One more than the page size: the extra row says whether there is a next page. */
  fetch: number;
}

/** Checks a query and turns it into statement parameters; bad input is a BadRequestError naming the field. */
export function historyParams(query: HistoryQuery): { params: HistoryParams; limit: number } {
  const limit = clampLimit(query.limit);
  const status = statusRange(query.status);
  let before = { time: NO_UPPER, id: NO_UPPER };
  // time < until is (time, id) < (until, 0): ids start at 1.
  if (query.until !== undefined) before = { time: epochMs(query.until, 'until'), id: 0 };
  if (query.cursor !== undefined) {
    const cursor = decodeCursor(query.cursor, query.app);
    if (cursor.time < before.time || (cursor.time === before.time && cursor.id < before.id)) before = cursor;
  }
  return {
    limit,
    params: {
      app: query.app,
      since: query.since === undefined ? NO_LOWER_TIME : epochMs(query.since, 'since'),
      beforeTime: before.time,
      beforeId: before.id,
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
  throw invalid('status', `expected a status like 404 or a class like 5xx, got ${JSON.stringify(status)}`);
}

/**
 * The opaque cursor of `app`'s history: base64url of "time:id:app". The app is in it
 * because a position in one app's history is one in every other's too: another app's
 * cursor silently skipped this app's records newer than it.
 */
export function encodeCursor(time: number, id: number, app: string): string {
  return Buffer.from(`${time}:${id}:${app}`, 'utf8').toString('base64url');
}

/** The position a cursor of `app`'s history continues from; a BadRequestError for any other string. */
export function decodeCursor(cursor: string, app: string): { time: number; id: number } {
  const match = /^(-?\d{1,16}):(\d{1,16}):(.+)$/s.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const decoded = match ? { time: Number(match[1]), id: Number(match[2]), app: match[3]! } : undefined;
  // Node's base64url decoder skips characters it does not know; re-encoding catches
  // a cursor that was cut, padded or edited.
  if (!decoded || encodeCursor(decoded.time, decoded.id, decoded.app) !== cursor) {
    throw invalid('cursor', `expected the next cursor of a previous page, got ${JSON.stringify(cursor.slice(0, 100))}`);
  }
  if (decoded.app !== app) throw invalid('cursor', `it pages the history of another app, not ${app}'s; leave it out for the first page`);
  return { time: decoded.time, id: decoded.id };
}

function epochMs(date: Date, field: string): number {
  const ms = date instanceof Date ? date.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw invalid(field, 'expected a valid time');
  return ms;
}

/** The query's fields are the history endpoint's query parameters: the message says so, as the API's own checks do. */
function invalid(field: string, message: string): BadRequestError {
  return new BadRequestError(`query parameter ${field}: ${message}`);
}
