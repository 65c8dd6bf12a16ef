import { BadRequestError } from '../errors.js';
import { DURATION_PATTERN, parseLongDuration } from '../spec/duration.js';
import { closestName } from '../spec/suggest.js';
import type { RouteDef } from './route-def.js';

/**
 * What is wrong with a request's query for `route`, or undefined: a parameter the
 * operation does not take, or one given more than once. Ignoring them turned a
 * slip into a different operation (`?dryrun=true` applied for real,
 * `?purgeVolume=true` kept the volume). Pure.
 */
export function queryProblem(query: URLSearchParams, route: Pick<RouteDef, 'method' | 'path' | 'query'>): string | undefined {
  const taken = Object.keys(route.query ?? {});
  for (const name of new Set(query.keys())) {
    if (!taken.includes(name)) {
      const operation = `${route.method} ${route.path}`;
      if (taken.length === 0) return `query parameter ${name}: ${operation} takes no query parameters`;
      const meant = closestName(name, taken);
      return `query parameter ${name}: ${operation} takes no such parameter (${meant ? `did you mean ${meant}?` : `it takes: ${taken.join(', ')}`})`;
    }
    const count = query.getAll(name).length;
    if (count > 1) return `query parameter ${name} is given ${count} times; give it once`;
  }
  return undefined;
}

/** Query parameters, parsed once with errors that name the parameter. */
export function booleanParam(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  if (value === null) return false;
  if (value === '' || value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new BadRequestError(`query parameter ${name}: expected true or false, got "${value}"`);
}

export function integerParam(query: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  // Digits only: Number() also reads "1e2", "0x10", " 5" and "5.0", which no client means as a count.
  const n = /^-?[0-9]{1,16}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new BadRequestError(`query parameter ${name}: expected an integer from ${min} to ${max}, got "${value}"`);
  return n;
}

/** An ISO time, or a duration back from now ("15m", "2h", "1h30m", "1d"). */
export function timeParam(query: URLSearchParams, name: string, now = Date.now()): Date | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  const time = instantOf(value, now);
  if (time === undefined) {
    const why = /^-?[0-9.]+$/.test(value) ? ' (a unit is missing)' : '';
    throw new BadRequestError(`query parameter ${name}: expected an ISO time or a duration like 15m, got "${value}"${why}`);
  }
  return time;
}

/**
 * An ISO date or date-time (no offset: UTC, as every time berth shows is), or a
 * duration back from `nowMs`; undefined for anything else. `new Date()` alone was
 * the parser: it reads "5", "-1" or "March 7" as days in 2001 (`--since 5` gave
 * the whole history), "2026-02-30" as March 2, a zone-less time in the gateway's
 * own time zone, and a duration back past the year -271821 as an Invalid Date
 * that the usage report failed on with a 500. Pure.
 */
export function instantOf(value: string, nowMs: number): Date | undefined {
  if (DURATION.test(value)) {
    try {
      return new Date(nowMs - parseLongDuration(value));
    } catch {
      return undefined; // longer than any duration berth takes
    }
  }
  const iso = ISO_TIME.exec(value);
  if (!iso || !isCalendarDay(iso[1]!)) return undefined;
  const time = new Date(`${iso[1]}${iso[2] ? `T${iso[2]}${iso[3] ?? 'Z'}` : ''}`);
  return Number.isNaN(time.getTime()) ? undefined : time;
}

const DURATION = new RegExp(DURATION_PATTERN);

/** `2026-12-01`, `2026-12-01T10:00`, `2026-12-01 10:00:05.250Z`, `…+02:00`: date; time; offset. */
const ISO_TIME = /^([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[T ]([0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?)(Z|[+-][0-9]{2}:[0-9]{2})?)?$/i;

/** Whether `yyyy-mm-dd` names a day of the calendar (not February 30th). */
function isCalendarDay(date: string): boolean {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  // setUTCFullYear takes the years 0–99 as given, where Date.UTC reads them as 1900–1999.
  const day = new Date(0);
  day.setUTCFullYear(y, m - 1, d);
  return day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
}
