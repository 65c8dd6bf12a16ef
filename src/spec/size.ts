/**
 * Sizes as users write them: `"256m"`, `"1g"`, `"512k"`, `"1.5GiB"`, or a number of
 * bytes. Like Docker's `--memory`, the units are binary (k = 1024) whatever their
 * spelling, so `"256m"` here means what it means on the docker command line.
 */

/** The accepted string form, also published in the JSON Schema for editors. */
export const SIZE_PATTERN = '^[0-9]+(\\.[0-9]+)?([bBkKmMgGtT]|[kKmMgGtT][iI]?[bB])?$';

const WHOLE = new RegExp(SIZE_PATTERN);
const MULTIPLIER: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

export const SIZE_HINT = 'use a number of bytes or a string like "512k", "256m", "1g"';

/** A byte count as users write sizes: `"512m"`, `"1g"`, or plain bytes when no unit divides it. Pure. */
export function sizeText(bytes: number): string {
  for (const [unit, factor] of [['t', 2 ** 40], ['g', 2 ** 30], ['m', 2 ** 20], ['k', 2 ** 10]] as const) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return String(bytes);
}

/**
 * A byte count as a spec writes it back (spec-document.ts): `"512m"` when a unit
 * divides it, else the plain number of bytes (a number, as a user writes it). Exact
 * by construction: a whole count of a unit; a fraction (`"1.5g"`) would parse back
 * through a rounding down. Pure.
 */
export function sizeValue(bytes: number): string | number {
  const text = sizeText(bytes);
  return text === String(bytes) ? bytes : text;
}

/** Bytes of a size (rounded down to a whole byte), or an Error saying what is wrong. */
export function parseSize(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isSafeInteger(input) || input < 0) {
      throw new Error(`${input} is not a size: ${SIZE_HINT}`);
    }
    return input;
  }
  if (!WHOLE.test(input)) throw new Error(`${JSON.stringify(input)} is not a size: ${SIZE_HINT}`);
  const [, amount, unit] = /^([0-9.]+)([a-zA-Z]*)$/.exec(input)!;
  const bytes = Math.floor(Number(amount) * MULTIPLIER[unit!.charAt(0).toLowerCase()]!);
  if (!Number.isSafeInteger(bytes)) throw new Error(`${JSON.stringify(input)} is too large`);
  return bytes;
}
