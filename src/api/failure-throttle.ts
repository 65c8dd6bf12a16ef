import { doublingDelayMs } from '../backoff.js';

/**
 * Refuses guessing: after a few failed authentications from one address, further
 * failures from it are answered 429 with Retry-After, for a block that doubles
 * with each failure up to a cap. Nothing is ever delayed, and only failures are
 * throttled: the caller checks the token first, so a request carrying a valid
 * token is answered normally whatever its address did before (a shared NAT
 * address must not lock out the operator), and clears the address. Entries expire, and the table is
 * bounded, so a flood of addresses cannot grow it without limit.
 */
export interface FailureThrottleOptions {
  /** Failures allowed before the first block. */
  freeFailures?: number;
  /** Length of the first block; each further failure doubles it. */
  baseBlockMs?: number;
  maxBlockMs?: number;
  /** An address with no failure for this long starts afresh. */
  forgetAfterMs?: number;
  maxEntries?: number;
  /** The clock (tests inject one); monotonic by default. */
  now?: () => number;
}

interface Entry {
  count: number;
  lastMs: number;
  blockedUntilMs: number;
}

export class FailureThrottle {
  private readonly failures = new Map<string, Entry>();
  private readonly freeFailures: number;
  private readonly baseBlockMs: number;
  private readonly maxBlockMs: number;
  private readonly forgetAfterMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: FailureThrottleOptions = {}) {
    this.freeFailures = options.freeFailures ?? 5;
    this.baseBlockMs = options.baseBlockMs ?? 1_000;
    this.maxBlockMs = options.maxBlockMs ?? 60_000;
    this.forgetAfterMs = options.forgetAfterMs ?? 10 * 60_000;
    this.maxEntries = options.maxEntries ?? 10_000;
    // Not the wall clock: one set back an hour blocked an address for that hour more (Retry-After: 3660).
    // Whole milliseconds: with fractions, (t + 2000) - t can come out a hair over 2000, and a 2 s block said 3.
    this.now = options.now ?? (() => Math.floor(performance.now()));
  }

  /**
   * Records a failed authentication from `address`. Returns the whole seconds the
   * client should wait (for Retry-After) when it is blocked, 0 when this failure is
   * still answered as a plain 401.
   */
  failed(address: string): number {
    const nowMs = this.now();
    const entry = this.live(address, nowMs);
    // A failure while blocked still counts, so a client that keeps trying stays blocked longer.
    const count = (entry?.count ?? 0) + 1;
    const over = count - this.freeFailures;
    const blockedUntilMs = over > 0 ? Math.max(entry?.blockedUntilMs ?? 0, nowMs + doublingDelayMs(over - 1, this.baseBlockMs, this.maxBlockMs)) : 0;
    this.failures.delete(address);
    if (this.failures.size >= this.maxEntries) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
    this.failures.set(address, { count, lastMs: nowMs, blockedUntilMs });
    return over > 0 ? Math.max(1, Math.ceil((blockedUntilMs - nowMs) / 1000)) : 0;
  }

  /**
   * A valid token from `address`: its failures are forgotten. Whoever holds a valid
   * token has nothing to gain from guessing, and an operator who mistyped once must
   * not stay blocked when trying a wrong token again later.
   */
  succeeded(address: string): void {
    this.failures.delete(address);
  }

  /** Seconds `address` is still blocked for (0: not blocked); for tests and status. */
  blockedForS(address: string): number {
    const nowMs = this.now();
    const entry = this.live(address, nowMs);
    return entry && entry.blockedUntilMs > nowMs ? Math.ceil((entry.blockedUntilMs - nowMs) / 1000) : 0;
  }

  private live(address: string, nowMs: number): Entry | undefined {
    const entry = this.failures.get(address);
    if (!entry) return undefined;
    if (nowMs - entry.lastMs > this.forgetAfterMs && entry.blockedUntilMs <= nowMs) {
      this.failures.delete(address);
      return undefined;
    }
    return entry;
  }
}
