import type { ActivityEntry } from './state-feed.js';

/** What the activator is told for one app after a report: in-flight change, or a touch (activity, same count). */
export interface ActivityDelta {
  app: string;
  /** Change of the app's in-flight count over all workers; 0 with `touched`: requests came and went. */
  delta: number;
  touched: boolean;
}

interface WorkerApp {
  inFlight: number;
  instances: ReadonlyArray<readonly [string, number]>;
}

/**
 * The control's view of every worker's activity: the last absolute counts
 * each worker reported, per app and per instance. Reports turn into deltas
 * for the activator's idle clocks (began/ended), so `inFlight` in an app's
 * status is the sum over workers, and a worker's death gives back what it
 * held. No I/O, no clock: the caller applies the deltas.
 */
export class ActivityTable {
  private readonly byWorker = new Map<number, Map<string, WorkerApp>>();

  /** A worker's report; an app named in it had activity since that worker's previous report. */
  report(worker: number, entries: readonly ActivityEntry[]): ActivityDelta[] {
    let apps = this.byWorker.get(worker);
    if (!apps) this.byWorker.set(worker, (apps = new Map()));
    const out: ActivityDelta[] = [];
    for (const [app, inFlight, instances] of entries) {
      const before = apps.get(app)?.inFlight ?? 0;
      if (inFlight === 0) apps.delete(app);
      else apps.set(app, { inFlight, instances });
      out.push({ app, delta: inFlight - before, touched: true });
    }
    return out;
  }

  /** A worker is gone: what it had in flight is given back (its connections died with it). */
  drop(worker: number): ActivityDelta[] {
    const apps = this.byWorker.get(worker);
    this.byWorker.delete(worker);
    if (!apps) return [];
    return [...apps].map(([app, a]) => ({ app, delta: -a.inFlight, touched: false }));
  }

  /** The app's requests in flight over all workers. */
  inFlight(app: string): number {
    let sum = 0;
    for (const apps of this.byWorker.values()) sum += apps.get(app)?.inFlight ?? 0;
    return sum;
  }

  /** The requests in flight on one instance over all workers (what a drain waits for). */
  instanceInFlight(app: string, instanceId: string): number {
    let sum = 0;
    for (const apps of this.byWorker.values()) {
      for (const [id, n] of apps.get(app)?.instances ?? []) if (id === instanceId) sum += n;
    }
    return sum;
  }
}

/**
 * The activator calls one delta stands for: `began` per request more, `ended`
 * per request fewer, and a began/ended pair for a touch (requests that came and
 * went between two reports still count as activity). Pure.
 */
export function activatorCalls(d: ActivityDelta): { began: number; ended: number } {
  if (d.delta > 0) return { began: d.delta, ended: 0 };
  if (d.delta < 0) return { began: 0, ended: -d.delta };
  return d.touched ? { began: 1, ended: 1 } : { began: 0, ended: 0 };
}
