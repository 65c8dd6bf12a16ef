/**
 * Counts failures that come close together (failed starts, and instances that
 * die soon after becoming ready). From `threshold` consecutive failures on, the
 * app is crash-looping and each next try waits twice as long, up to `maxMs`.
 * A clean stop or a long enough run resets the count.
 */
export class CrashBackoff {
  private failures = 0;
  private retryAtMs = 0;

  constructor(
    private readonly threshold = 3,
    private readonly firstDelayMs = 2_000,
    private readonly maxMs = 5 * 60_000,
  ) {}

  /** Records a failure at `nowMs` (monotonic); returns the delay before the next try, or 0 when not looping. */
  fail(nowMs: number): number {
    this.failures++;
    if (this.failures < this.threshold) return 0;
    const delay = Math.min(this.firstDelayMs * 2 ** (this.failures - this.threshold), this.maxMs);
    this.retryAtMs = nowMs + delay;
    return delay;
  }

  reset(): void {
    this.failures = 0;
    this.retryAtMs = 0;
  }

  /** Milliseconds still to wait before a start may be tried; 0 when it may. */
  waitMs(nowMs: number): number {
    return Math.max(0, this.retryAtMs - nowMs);
  }

  get looping(): boolean {
    return this.failures >= this.threshold;
  }

  /** Failures since the last reset: how many times in a row the app failed. */
  get count(): number {
    return this.failures;
  }
}

/** The reason of an app in crashloop: how many failures in a row (the last one's why is beside it). Pure. */
export function crashLoopReason(failures: number): string {
  return `${failures} failures in a row (failed starts, or containers that died soon after starting)`;
}
