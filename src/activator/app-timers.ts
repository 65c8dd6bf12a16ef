import { IdleClock } from './idle-clock.js';

/**
 * An app's clocks: the idle timeout that stops or pauses it (counted from its
 * last activity), and the removal of a long-stopped app's containers. Each
 * fires its callback; the controller decides, when it fires, whether the
 * moment still fits (a request may have come in meanwhile).
 */
export class AppTimers {
  readonly idle: IdleClock;
  private removal?: NodeJS.Timeout;

  constructor(onIdle: () => void) {
    this.idle = new IdleClock(onIdle);
  }

  /** Counts the idle timeout down while the app runs and may scale to zero; otherwise never idle. */
  armIdle(idleMs: number | undefined): void {
    if (idleMs === undefined) this.idle.disarm();
    else this.idle.arm(idleMs);
  }

  /** Removes the containers `afterMs` from now (no removal without a setting). */
  armRemoval(afterMs: number | undefined, remove: () => void): void {
    this.cancelRemoval();
    if (afterMs === undefined) return;
    this.removal = setTimeout(remove, afterMs);
    this.removal.unref();
  }

  cancelRemoval(): void {
    clearTimeout(this.removal);
    this.removal = undefined;
  }

  stopAll(): void {
    this.idle.disarm();
    this.cancelRemoval();
  }
}
