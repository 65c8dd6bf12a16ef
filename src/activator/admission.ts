import { EngineUnavailableError, type BerthError } from '../errors.js';
import { CrashBackoff } from './crash-backoff.js';
import { CrashLoopError, QueueFullError } from './start-errors.js';

/** How often a down engine is asked whether it is back. */
const ENGINE_PING_EVERY_MS = 250;

/**
 * Who may wait for an app's start: refused at once while the engine is down
 * (503, the engine's trouble), while the app crash-loops (503 until its
 * backoff ends), and beyond the queue size. While the engine is down it is
 * pinged, one ping at a time, so the first request after it answers again
 * starts the app instead of waiting out Retry-After.
 */
export class AdmissionGate {
  /** Requests waiting for a start now. */
  waiting = 0;
  readonly backoff = new CrashBackoff();
  private engineDownUntilMs = 0;
  private engineWatch?: Promise<void>;
  private closed = false;

  /**
   * `ping`: asks the engine whether it is back; without one the outage lasts
   * its Retry-After. It must dial a new connection each time (Runtime.probe):
   * one that reuses a kept-alive connection can succeed while new connections
   * hang (see the engine-blackhole integration test), ending the outage too early.
   */
  constructor(
    private readonly ping?: () => Promise<void>,
    private readonly now: () => number = () => performance.now(),
    /**
     * Told when a ping answers and ends the outage. What the engine did while its answers
     * were lost (a start carried out, its answer cut) is only known by looking again.
     */
    private readonly onBack?: () => void,
  ) {}

  /** Why a request may not wait for a start now; undefined when it may. */
  refusal(app: string, lastError: string | undefined, queueSize: number, publicLastError?: string): BerthError | undefined {
    const now = this.now();
    const engineWaitMs = this.engineDownUntilMs - now;
    if (engineWaitMs > 0) return new EngineUnavailableError(lastError ?? 'the Docker engine is unavailable', Math.ceil(engineWaitMs / 1000));
    const waitMs = this.backoff.waitMs(now);
    if (waitMs > 0) {
      const failures = `${this.backoff.count} failures in a row, the last: `;
      return new CrashLoopError(app, failures + (lastError ?? 'unknown'), Math.ceil(waitMs / 1000), failures + (publicLastError ?? `app ${app} failed to start`));
    }
    if (this.waiting >= queueSize) return new QueueFullError(app, queueSize);
    return undefined;
  }

  /** A start found the engine unavailable: refuse for `retryAfterS`, or until a ping answers. */
  engineDown(retryAfterS: number): void {
    this.engineDownUntilMs = this.now() + retryAfterS * 1000;
    if (this.ping) this.engineWatch ??= this.watchEngine(this.ping).finally(() => (this.engineWatch = undefined));
  }

  /** Milliseconds before a start may be tried again (0: now). */
  retryDelayMs(): number {
    const now = this.now();
    return Math.max(this.backoff.waitMs(now), this.engineDownUntilMs - now, 0);
  }

  close(): void {
    this.closed = true;
  }

  private async watchEngine(ping: () => Promise<void>): Promise<void> {
    while (!this.closed && this.engineDownUntilMs > this.now()) {
      const back = await ping().then(
        () => true,
        () => false,
      );
      if (back) {
        this.engineDownUntilMs = 0;
        if (!this.closed) this.onBack?.();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, ENGINE_PING_EVERY_MS).unref());
    }
  }
}
