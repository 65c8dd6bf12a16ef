import { InvalidArgumentError } from 'commander';

/** The largest page the API gives (GET /v1/apps, an app's history): what `--limit` may ask. */
export const MAX_PAGE = 1000;

/** `--limit <n>` of a paged command: a whole number from 1 to MAX_PAGE, said before any call is made. */
export function pageSize(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_PAGE) throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_PAGE}`);
  return n;
}
