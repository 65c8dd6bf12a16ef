import type { AppState } from '../../activator/app-status.js';

/** How long a hold lasts at most when the leader's decision never comes (it died mid-fence). */
const HOLD_MAX_MS = 5_000;
/** How long a hold waits, after the leader decided to stop, for this gateway to see the app down. */
const STOPPING_MAX_MS = 15_000;

interface Hold {
  promise: Promise<void>;
  release: () => void;
  timer: NodeJS.Timeout;
}

/**
 * The other side of the leader's fence: while the leader decides whether to
 * stop an app, this gateway admits none of its requests by itself; they wait.
 * When the leader stops it, they wait on until this gateway sees the app down
 * (the engine's event), so none is sent to a container on its way out; then they
 * wake it again like any cold request.
 */
export class FenceHolds {
  private readonly holds = new Map<string, Hold>();
  private poll?: NodeJS.Timeout;

  constructor(
    private readonly stateOf: (app: string) => AppState | undefined,
    private readonly onEnd: (app: string) => void = () => undefined,
  ) {}

  /** Whether requests for `app` are held now. */
  isHeld(app: string): boolean {
    return this.holds.has(app);
  }

  /** A promise requests for `app` must wait on now, or undefined (the hot path: one map lookup). */
  heldFor(app: string): Promise<void> | undefined {
    return this.holds.get(app)?.promise;
  }

  hold(app: string, maxMs = HOLD_MAX_MS): void {
    const existing = this.holds.get(app);
    if (existing) {
      existing.timer.refresh();
      return;
    }
    let release!: () => void;
    const promise = new Promise<void>((r) => (release = r));
    const timer = setTimeout(() => this.end(app), maxMs);
    timer.unref();
    this.holds.set(app, { promise, release, timer });
  }

  /** The leader decided; `stopping`: hold on until the app is seen down here. */
  release(app: string, stopping: boolean): void {
    if (!this.holds.has(app)) return;
    if (!stopping || this.isDown(app)) return this.end(app);
    const hold = this.holds.get(app)!;
    clearTimeout(hold.timer);
    hold.timer = setTimeout(() => this.end(app), STOPPING_MAX_MS);
    hold.timer.unref();
    this.poll ??= setInterval(() => {
      for (const name of this.holds.keys()) if (this.isDown(name)) this.end(name);
      if (this.holds.size === 0) {
        clearInterval(this.poll);
        this.poll = undefined;
      }
    }, 50);
    this.poll.unref();
  }

  private isDown(app: string): boolean {
    const state = this.stateOf(app);
    return state !== 'running' && state !== 'stopping';
  }

  private end(app: string): void {
    const hold = this.holds.get(app);
    if (!hold) return;
    this.holds.delete(app);
    clearTimeout(hold.timer);
    hold.release();
    this.onEnd(app);
  }

  close(): void {
    for (const app of [...this.holds.keys()]) this.end(app);
    clearInterval(this.poll);
  }
}
