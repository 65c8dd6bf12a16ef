import type { AppStatus } from '../activator/app-status.js';
import { usageShare } from '../accounting/usage-kind.js';

interface Entry {
  state?: 'running' | 'paused';
  /** Instances in `state`. */
  weight: number;
  sinceMs: number;
  running: number;
  paused: number;
}

/**
 * Container-seconds per app: the time its instances spend up (starting,
 * running or draining) and paused, times how many instances there are, counted
 * the way the usage accounting counts them (usageShare). Added up when the
 * app's state changes and whenever the totals are read, so a scrape sees the
 * time up to now.
 */
export class ContainerClock {
  private readonly apps = new Map<string, Entry>();

  constructor(private readonly nowMs: () => number = () => performance.now()) {}

  /** The app's status now; the time since the last update is booked to the state it was in. */
  update(status: AppStatus): void {
    const now = this.nowMs();
    let entry = this.apps.get(status.name);
    if (!entry) {
      entry = { weight: 0, sinceMs: now, running: 0, paused: 0 };
      this.apps.set(status.name, entry);
    }
    book(entry, now);
    const share = usageShare(status);
    entry.state = share.kind === 'idle' ? undefined : share.kind;
    entry.weight = share.instances;
  }

  /** Books every app's time up to now. */
  advance(): void {
    const now = this.nowMs();
    for (const entry of this.apps.values()) book(entry, now);
  }

  forget(app: string): void {
    this.apps.delete(app);
  }

  /** Seconds so far, by app; call advance() first for figures up to now. */
  *totals(): IterableIterator<{ app: string; running: number; paused: number }> {
    for (const [app, e] of this.apps) yield { app, running: e.running, paused: e.paused };
  }
}

function book(entry: Entry, now: number): void {
  const seconds = ((now - entry.sinceMs) / 1000) * entry.weight;
  if (entry.state === 'running') entry.running += seconds;
  else if (entry.state === 'paused') entry.paused += seconds;
  entry.sinceMs = now;
}
