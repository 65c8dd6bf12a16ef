import { IdleClock } from './idle-clock.js';

/**
 * An app's clocks: the idle timeout that stops or pauses it (counted from its
 * last activity), the stop of a container kept running without serving (a
 * failed start's), and the removal of a long-stopped app's containers. Each
 * fires its callback; the controller decides, when it fires, whether the
 * moment still fits (a request may have come in meanwhile).
 */
export class AppTimers {
  readonly idle: IdleClock;
  private removal?: NodeJS.Timeout;
  private leftover?: NodeJS.Timeout;

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

  /**
   * Stops a container that runs without serving `afterMs` from now; an armed
   * clock keeps its time (a resync that looks again does not push it back).
   */
  armLeftoverStop(afterMs: number, stop: () => void): void {
    if (this.leftover) return;
    this.leftover = setTimeout(() => {
      this.leftover = undefined;
      stop();
    }, afterMs);
    this.leftover.unref();
  }

  cancelLeftoverStop(): void {
    clearTimeout(this.leftover);
    this.leftover = undefined;
  }

  cancelRemoval(): void {
    clearTimeout(this.removal);
    this.removal = undefined;
  }

  stopAll(): void {
    this.idle.disarm();
    this.cancelRemoval();
    this.cancelLeftoverStop();
  }
}
