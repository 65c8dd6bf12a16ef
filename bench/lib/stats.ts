/** Number helpers the benchmarks share: percentiles, rounding, the fixed-width figures of their reports. */

/** Percentile with linear interpolation between closest ranks (numpy's default); NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

export const median = (values: readonly number[]): number => percentile(values, 50);

/** Rounds to `digits` decimals; NaN and ±Infinity stay as they are. */
export const round = (x: number, digits = 2): number => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x);

/** A figure for a report: `digits` decimals, or '-' when there is none. */
export const fmt = (x: number | undefined, digits = 1): string => (x !== undefined && Number.isFinite(x) ? x.toFixed(digits) : '-');

export interface Summary {
  n: number;
  median: number;
  p90: number;
  min: number;
  max: number;
}

/** Count, median, p90, min and max of a series, rounded to 2 decimals. */
export function summary(values: readonly number[]): Summary {
  return {
    n: values.length,
    median: round(percentile(values, 50)),
    p90: round(percentile(values, 90)),
    min: round(Math.min(...values)),
    max: round(Math.max(...values)),
  };
}

/** The same object with every number field rounded to 2 decimals. */
export function rounded<T extends object>(r: T): T {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? round(v) : v])) as T;
}
