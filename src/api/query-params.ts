import { BadRequestError } from '../errors.js';
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

/** An ISO time, or a duration back from now ("15m", "2h", "1d"). */
export function timeParam(query: URLSearchParams, name: string, now = Date.now()): Date | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  const rel = /^(\d+)(s|m|h|d)$/.exec(value);
  if (rel) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now - Number(rel[1]) * unit);
  }
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) throw new BadRequestError(`query parameter ${name}: expected an ISO time or a duration like 15m, got "${value}"`);
  return time;
}
