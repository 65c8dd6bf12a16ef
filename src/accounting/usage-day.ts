/** Days are UTC calendar days, written `YYYY-MM-DD` (sortable as text). */

const DAY_MS = 86_400_000;

/** The UTC day `ms` falls on. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * Cuts the interval [fromMs, toMs) at every UTC midnight it crosses and
 * returns how many milliseconds of it fall on each day, in order. An empty or
 * backwards interval gives nothing.
 */
export function splitByDay(fromMs: number, toMs: number): Array<{ day: string; ms: number }> {
  const parts: Array<{ day: string; ms: number }> = [];
  let at = fromMs;
  while (at < toMs) {
    const midnight = (Math.floor(at / DAY_MS) + 1) * DAY_MS;
    const end = Math.min(toMs, midnight);
    parts.push({ day: utcDay(at), ms: end - at });
    at = end;
  }
  return parts;
}
