/**
 * Slows down guessing: after a few failed authentications from one address,
 * each further answer to that address is delayed, doubling up to a cap. A
 * success clears the address. Entries expire, and the table is bounded, so a
 * flood of addresses cannot grow it without limit.
 */
export class FailureThrottle {
  private readonly failures = new Map<string, { count: number; lastMs: number }>();

  constructor(
    private readonly freeFailures = 5,
    private readonly maxDelayMs = 5_000,
    private readonly forgetAfterMs = 10 * 60_000,
    private readonly maxEntries = 10_000,
  ) {}

  /** How long to hold the answer to a request from `address`. */
  delayMs(address: string, nowMs = Date.now()): number {
    const entry = this.failures.get(address);
    if (!entry || nowMs - entry.lastMs > this.forgetAfterMs) return 0;
    const over = entry.count - this.freeFailures;
    return over < 0 ? 0 : Math.min(100 * 2 ** over, this.maxDelayMs);
  }

  failed(address: string, nowMs = Date.now()): void {
    const entry = this.failures.get(address);
    const stale = !entry || nowMs - entry.lastMs > this.forgetAfterMs;
    this.failures.delete(address);
    if (this.failures.size >= this.maxEntries) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
    this.failures.set(address, { count: stale ? 1 : entry.count + 1, lastMs: nowMs });
  }

  succeeded(address: string): void {
    this.failures.delete(address);
  }
}
