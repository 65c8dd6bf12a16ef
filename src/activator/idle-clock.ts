/**
 * Tracks an app's activity: requests and WebSockets in flight, and when the
 * last one ended. While anything is in flight the app is never idle; once the
 * last one ends, `onIdle` fires after the idle timeout unless activity returns.
 * Timing uses the monotonic clock, so wall-clock jumps neither stop an app
 * early nor keep it up forever.
 */
export class IdleClock {
  inFlight = 0;
  private lastActivityMs = performance.now();
  /** When a request or WebSocket last began or ended; undefined until the first one. */
  private lastRequestMs?: number;
  private idleMs?: number;
  private timer?: NodeJS.Timeout;
  private drainWaiters: Array<() => void> = [];

  constructor(private readonly onIdle: () => void) {}

  /**
   * On every request: the idle timer is not touched. One left pending fires at or before
   * the new deadline, finds the app busy or active since, and arms itself for what is
   * left (see schedule). A clear and a new timer per request (whenever nothing else was
   * in flight) cost more on the proxy's hot path than that one extra wake-up per idle timeout.
   */
  began(): void {
    this.inFlight++;
    this.lastActivityMs = performance.now();
    this.lastRequestMs = this.lastActivityMs;
  }

  ended(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.lastActivityMs = performance.now();
    this.lastRequestMs = this.lastActivityMs;
    if (this.inFlight === 0) {
      if (this.drainWaiters.length > 0) for (const wake of this.drainWaiters.splice(0)) wake();
      if (this.timer === undefined) this.schedule();
    }
  }

  /**
   * Counts now as activity without anything in flight: an app that just became
   * ready gets its full idle timeout from that moment, even if the request that
   * woke it (a waiting page, say) ended long before the start finished.
   */
  touch(): void {
    this.lastActivityMs = performance.now();
    if (this.idleMs !== undefined) this.schedule();
  }

  /**
   * Takes the app's last request from before a gateway restart (wall-clock epoch
   * ms): the idle timeout counts on from it, not afresh from the restart, and the
   * status shows it. Ignored once a request was seen here: that one is newer.
   */
  restore(lastRequestAtMs: number): void {
    if (this.lastRequestMs !== undefined) return;
    // A wall-clock time ahead of now (the clock was set back) counts as now.
    const at = performance.now() - Math.max(0, Date.now() - lastRequestAtMs);
    this.lastRequestMs = at;
    this.lastActivityMs = Math.min(this.lastActivityMs, at);
    if (this.idleMs !== undefined) this.schedule();
  }

  /** Starts (or restarts) counting down `idleMs` from the last activity. */
  arm(idleMs: number): void {
    this.idleMs = idleMs;
    this.schedule();
  }

  disarm(): void {
    this.idleMs = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The last request or WebSocket activity, as a wall-clock time; undefined when there was none. */
  get lastActivity(): Date | undefined {
    return this.lastRequestMs === undefined ? undefined : new Date(Date.now() - (performance.now() - this.lastRequestMs));
  }

  /** When the app goes idle if nothing happens; undefined while busy or disarmed. */
  get idleAt(): Date | undefined {
    if (this.idleMs === undefined || this.inFlight > 0) return undefined;
    return new Date(Date.now() + Math.max(0, this.lastActivityMs + this.idleMs - performance.now()));
  }

  /**
   * Whether the idle timeout has run out now: nothing in flight and no activity
   * for the whole timeout. Asked again after a barrier (proxy workers report
   * their activity late, in batches) before an idle stop goes ahead.
   */
  isIdle(): boolean {
    return this.inFlight === 0 && this.idleMs !== undefined && performance.now() - this.lastActivityMs >= this.idleMs - 1;
  }

  /** Resolves once nothing is in flight, or after `graceMs` at the latest. */
  drained(graceMs: number): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, graceMs);
      this.drainWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.idleMs === undefined || this.inFlight > 0) return;
    const left = this.lastActivityMs + this.idleMs - performance.now();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // Timers may fire a little early or late, and one set before the latest activity fires
      // before its deadline: re-check against the monotonic clock. Busy, the last end arms it again.
      if (this.inFlight > 0 || this.idleMs === undefined) return;
      if (performance.now() - this.lastActivityMs < this.idleMs - 1) return this.schedule();
      this.onIdle();
    }, Math.max(0, left));
    this.timer.unref();
  }
}
