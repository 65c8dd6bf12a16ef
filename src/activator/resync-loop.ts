import type { Logger } from 'pino';
import { messageOf } from '../errors.js';

/** Default gap between two resync passes (config `resync`). */
export const DEFAULT_RESYNC_EVERY_MS = 10_000;

/**
 * Runs the resync pass every `everyMs`, counted from the end of the previous one,
 * so two passes never overlap however slow the engine is. A failed pass (the
 * engine is down) is skipped: said once at warn, then at debug until a pass works
 * again, so an outage does not flood the log; it is never an app's failure.
 */
export class ResyncLoop {
  private timer?: NodeJS.Timeout;
  private running?: Promise<boolean>;
  private stopped = false;
  private failing = false;

  constructor(
    private readonly everyMs: number,
    private readonly pass: () => Promise<void>,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.schedule();
  }

  /** Runs a pass now, or joins the one under way. Resolves whether it completed; never rejects. */
  runNow(): Promise<boolean> {
    this.running ??= this.pass()
      .then(
        () => this.succeeded(),
        (err: unknown) => this.failed(err),
      )
      .finally(() => (this.running = undefined));
    return this.running;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.runNow().then(() => this.schedule()), this.everyMs);
    this.timer.unref();
  }

  private succeeded(): boolean {
    if (this.failing) this.logger.info('resync works again');
    this.failing = false;
    return true;
  }

  private failed(err: unknown): boolean {
    const level = this.failing ? 'debug' : 'warn';
    this.logger[level]({ err: messageOf(err) }, 'resync pass skipped; the next one tries again');
    this.failing = true;
    return false;
  }
}
