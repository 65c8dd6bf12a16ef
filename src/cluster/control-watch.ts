import { ControlSilentError } from '../errors.js';
import type { WakeAnswer } from './state-feed.js';
import { wireError } from './wire.js';

/**
 * A worker's watch on its control process. The control pings every worker every
 * few seconds and takes one silent for `silentAfterMs` for hung; this is the same
 * rule the other way round. A control that is stopped (SIGSTOP) or whose event
 * loop is blocked still holds the IPC channel open, so 'disconnect' never comes:
 * without the watch, every request for an app that is not running waited on its
 * wake for good, piling up on the worker. While the control is silent, wakes
 * fail with 503 and Retry-After; apps the worker knows ready are served as ever.
 */
export class ControlWatch {
  private lastHeardMs: number;

  constructor(
    readonly silentAfterMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.lastHeardMs = now();
  }

  /** Any message from the control. */
  heard(): void {
    this.lastHeardMs = this.now();
  }

  get silent(): boolean {
    return this.now() - this.lastHeardMs > this.silentAfterMs;
  }

  /** The answer a wake gets while the control is silent. */
  silentAnswer(app: string): WakeAnswer {
    return { kind: 'fail', error: wireError(new ControlSilentError(app, this.silentAfterMs)) };
  }
}
