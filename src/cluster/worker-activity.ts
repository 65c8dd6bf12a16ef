import type { ActivityEntry } from './state-feed.js';

interface Counter {
  inFlight: number;
  /** Something began or ended since the last report. */
  dirty: boolean;
}

/**
 * A worker's activity per app, reported to the control in batches: the hot
 * path is a map lookup and two field writes; one report per interval carries
 * every app that had activity, with absolute counts. The control's barrier
 * (`flush`) reports at once.
 */
export class WorkerActivity {
  private readonly counters = new Map<string, Counter>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly send: (entries: ActivityEntry[]) => void,
    /** Per app, this worker's in-flight requests per instance. */
    private readonly byInstance: (app: string) => Array<[string, number]>,
    private readonly intervalMs = REPORT_EVERY_MS,
    /**
     * The last report is not yet written to the channel: the control does not read (SIGSTOP, a
     * blocked event loop). The timer's report then waits, and the next one carries the counts of
     * then: absolute counts lose nothing by waiting, and one report a tick queued in this process
     * for as long as the control did not read grew its memory without bound.
     */
    private readonly backlogged: () => boolean = () => false,
  ) {}

  began(app: string): void {
    let c = this.counters.get(app);
    if (!c) this.counters.set(app, (c = { inFlight: 0, dirty: false }));
    c.inFlight++;
    this.mark(c);
  }

  ended(app: string): void {
    const c = this.counters.get(app);
    if (!c) return;
    c.inFlight = Math.max(0, c.inFlight - 1);
    this.mark(c);
  }

  /** A request of `app` moved to an instance (chosen after it began, or a retry) or left one: the counts per instance go out too. */
  instancesChanged(app: string): void {
    const c = this.counters.get(app);
    if (c && !c.dirty) this.mark(c);
  }

  private mark(c: Counter): void {
    c.dirty = true;
    if (!this.timer) this.arm();
  }

  private arm(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.backlogged()) this.arm();
      else this.flush();
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Sends every app with activity since the last report (nothing when there was none); a barrier's and a close's go out whatever the backlog. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const entries = this.pending();
    if (entries.length > 0) this.send(entries);
  }

  /** The report due now; marks it sent. Apps idle and at 0 are forgotten. */
  pending(): ActivityEntry[] {
    const out: ActivityEntry[] = [];
    for (const [app, c] of this.counters) {
      if (!c.dirty) continue;
      c.dirty = false;
      out.push([app, c.inFlight, c.inFlight > 0 ? this.byInstance(app) : []]);
      if (c.inFlight === 0) this.counters.delete(app);
    }
    return out;
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * How often a worker reports activity. The idle clock learns of a request's
 * end this much late at most (never early), and a drain sees it as late.
 */
export const REPORT_EVERY_MS = 100;
