/**
 * A wait that doubles from `firstMs` with each step, at most `maxMs`: step 0 waits
 * `firstMs`, step 1 twice that, and so on. The exponent is bounded, so a count of
 * failures over days never turns into Infinity. Pure; stop retries, certificate
 * writes, ACME orders, proxy worker re-forks and the API's failed-login blocks back off with it.
 */
export function doublingDelayMs(step: number, firstMs: number, maxMs: number): number {
  return Math.min(maxMs, firstMs * 2 ** Math.min(Math.max(0, step), 30));
}
