/** Command-line and environment parsing the benchmarks share. */

/** The value after `name` on the command line, if any. */
export function argValue(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** A whole number from min to max; `fallback` when unset or empty. */
export function wholeNumber(value: string | undefined, fallback: number, min: number, max: number, what: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${what} must be a whole number from ${min} to ${max}, got '${value}'`);
  return n;
}

/** A run id is 4-16 lowercase letters or digits: it goes into container names and labels. */
export function checkRunId(runId: string, what: string): string {
  if (!/^[a-z0-9]{4,16}$/.test(runId)) throw new Error(`${what} must be 4-16 lowercase letters or digits, got '${runId}'`);
  return runId;
}

/** Seconds from `8s` or `1m`. */
export function seconds(v: string, what: string): number {
  const m = /^(\d+)(s|m)?$/.exec(v.trim());
  if (!m) throw new Error(`${what} must be like 8s or 1m, got '${v}'`);
  return Number(m[1]) * (m[2] === 'm' ? 60 : 1);
}
