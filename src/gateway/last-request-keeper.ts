import type { Logger } from 'pino';
import { messageOf } from '../errors.js';
import type { LastRequest, LastRequestStore } from '../store/store.js';

/**
 * A saved time this close to the current one is not written again: the wall-clock
 * time of a monotonic instant drifts by a few milliseconds between two reads.
 */
const SAME_WITHIN_MS = 1_000;

/**
 * What to write so the store holds `current`, given what it holds (`saved`): the
 * apps whose time moved, and the saved apps no longer there (deleted). Pure.
 */
export function lastRequestChanges(saved: ReadonlyMap<string, number>, current: readonly LastRequest[]): { changed: LastRequest[]; gone: string[] } {
  const names = new Set(current.map(([app]) => app));
  const changed = current.filter(([app, at]) => {
    const before = saved.get(app);
    return before === undefined || Math.abs(before - at) >= SAME_WITHIN_MS;
  });
  return { changed, gone: [...saved.keys()].filter((app) => !names.has(app)) };
}

export interface LastRequestKeeperOptions {
  store: LastRequestStore;
  /** Every declared app's last request now (apps without one left out). */
  current: () => readonly LastRequest[];
  /** What the store held when the gateway started. */
  saved: ReadonlyMap<string, number>;
  /** Several gateways: only the one that acts (the leader) writes. */
  acts?: () => boolean;
  logger?: Logger;
  /** How often changes are written. Default 15 s: a crash loses at most that much of an app's idle clock. */
  everyMs?: number;
}

/**
 * Saves the apps' last request times now and then, and at close, never per
 * request: after a restart an app idle for 50 of its 60 minutes has 10 left,
 * not a fresh 60, and its status still shows when it was last used. After a
 * crash (no save at close) an app may have been used up to `everyMs` later
 * than saved, so it may stop that much early.
 */
export class LastRequestKeeper {
  private readonly saved: Map<string, number>;
  private timer?: NodeJS.Timeout;
  private running: Promise<void> = Promise.resolve();
  private failing = false;

  constructor(private readonly options: LastRequestKeeperOptions) {
    this.saved = new Map(options.saved);
  }

  start(): void {
    this.timer = setInterval(() => void this.save(), this.options.everyMs ?? 15_000);
    this.timer.unref();
  }

  /** Writes what changed since the last save; one at a time. Never rejects: a failure is logged and retried next time. */
  save(): Promise<void> {
    this.running = this.running.then(() => this.saveNow());
    return this.running;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.save();
  }

  private async saveNow(): Promise<void> {
    if (this.options.acts && !this.options.acts()) return;
    const { changed, gone } = lastRequestChanges(this.saved, this.options.current());
    if (changed.length + gone.length === 0) return;
    try {
      await this.options.store.saveLastRequests(changed, gone);
      for (const [app, at] of changed) this.saved.set(app, at);
      for (const app of gone) this.saved.delete(app);
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.options.logger?.warn({ err: messageOf(err) }, 'cannot save the apps\' last request times; retried');
      this.failing = true;
    }
  }
}
