/**
 * Durations as users write them: `"250ms"`, `"90s"`, `"5m"`, `"1h30m"`, `"1d"`, or a
 * plain number of seconds. Parsed once at the edge; everything inside is milliseconds.
 */

/** The accepted string form, also published in the JSON Schema for editors. */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+$';

/**
 * The longest duration berth accepts. Node's timers overflow past 2^31-1 ms (about
 * 24.8 days) and then fire at once, which would stop an idle app immediately.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const WHOLE = new RegExp(DURATION_PATTERN);
const PART = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)/g;

export const DURATION_HINT = 'use a number of seconds or a string like "250ms", "90s", "5m", "1h30m"';

/** Milliseconds of a duration, or an Error whose message says what is wrong. */
export function parseDuration(input: string | number): number {
  return checkRange(parseAnyDuration(input), typeof input === 'number' ? String(input) : JSON.stringify(input));
}

/**
 * The longest duration that is never a timer's: 100 years. Past it a retention
 * subtracted from now is no longer a time at all (a Date ends 275,760 years from
 * 1970; "999999999999d" of usage.maxAge made every prune throw), and an HSTS
 * max-age came out in exponent form (`max-age=1e+21`), which browsers ignore.
 */
export const MAX_LONG_DURATION_MS = 36_500 * 86_400_000;

/**
 * A duration that is never a timer's (an HSTS max-age, a certificate's renewal
 * window, how long records are kept): months and years are fine, so there is no
 * 24-day bound.
 */
export function parseLongDuration(input: string | number): number {
  const ms = parseAnyDuration(input);
  if (ms > MAX_LONG_DURATION_MS) throw new Error(`${typeof input === 'number' ? String(input) : JSON.stringify(input)} is too long: at most 36500d (100 years)`);
  return ms;
}

function parseAnyDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) {
      throw new Error(`${input} is not a duration: ${DURATION_HINT}`);
    }
    return Math.round(input * 1000);
  }
  if (!WHOLE.test(input)) {
    // A bare number in quotes is the commonest slip, and where a text is all that can be written (an env value,
    // cntSpawner's IDLE) "use a number of seconds" cannot be followed: the fix is the same text with a unit.
    if (/^[0-9.]+$/.test(input)) throw new Error(`${JSON.stringify(input)} is not a duration (a unit is missing): write ${JSON.stringify(`${input}s`)} for seconds, or "250ms", "5m", "1h30m"`);
    throw new Error(`${JSON.stringify(input)} is not a duration: ${DURATION_HINT}`);
  }
  let ms = 0;
  for (const [, amount, unit] of input.matchAll(PART)) ms += Number(amount) * UNIT_MS[unit!]!;
  return Math.round(ms);
}

/**
 * The bound as users write durations, in whole seconds (24d20h31m23s): "at most 24 days" undersold it,
 * since 24d20h was accepted, and the bound named is one a user can write and have accepted.
 */
const MAX_DURATION_TEXT = formatDuration(Math.floor(MAX_DURATION_MS / 1000) * 1000);

function checkRange(ms: number, written: string): number {
  if (ms > MAX_DURATION_MS) throw new Error(`${written} is too long: at most ${MAX_DURATION_TEXT} (about 24.8 days, the longest a timer waits)`);
  return ms;
}

/** `90000` → `"1m30s"`: the short form used in messages and listings. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  let rest = ms;
  let out = '';
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = UNIT_MS[unit]!;
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return rest ? `${out}${rest}ms` : out;
}

/**
 * A whole number of milliseconds as the shortest duration text that parses back to
 * exactly it: `5m`, `90s` (not `1m30s`), `1500ms`, `1h30m5s`. For writing specs back
 * out (spec-document.ts), where the text must be exact, and short as a person writes it.
 * A tie goes to the larger unit (`1m`, not `60s`). Pure.
 */
export function exactDurationText(ms: number): string {
  const candidates = [formatDuration(ms)];
  for (const unit of ['d', 'h', 'm', 's', 'ms'] as const) {
    if (ms % UNIT_MS[unit]! === 0) candidates.push(`${ms / UNIT_MS[unit]!}${unit}`);
  }
  return candidates.reduce((best, text) => (text.length < best.length ? text : best));
}
