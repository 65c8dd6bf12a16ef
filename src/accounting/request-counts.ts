import { utcDay } from './usage-day.js';

const DAY_MS = 86_400_000;

/** Where folded counts go: `count` requests of `app` on UTC `day`. */
export type RequestSink = (app: string, day: string, count: number) => void;

/**
 * Requests per app, counted on the hot path as one map lookup and an increment:
 * no Date and no day string per request. The counts belong to one UTC day (the
 * window [dayStartMs, dayEndMs)); a request past its end first folds them out
 * and opens the next day, so every request still lands on its own day exactly.
 * A late one from before the window (a proxy worker's batch that crossed
 * midnight on the way) goes to its day directly: rare, and still exact.
 */
export class RequestCounts {
  /** Per app a mutable cell, so a request is one `get` and no `set`. */
  private readonly counts = new Map<string, { n: number }>();
  private dayStartMs = 0;
  /** Empty until the first request opens a day. */
  private dayEndMs = 0;
  private day = '';

  constructor(private readonly sink: RequestSink) {}

  add(app: string, atMs: number): void {
    if (atMs >= this.dayStartMs && atMs < this.dayEndMs) {
      const cell = this.counts.get(app);
      if (cell) cell.n++;
      else this.counts.set(app, { n: 1 });
      return;
    }
    if (atMs < this.dayStartMs) return this.sink(app, utcDay(atMs), 1);
    this.fold();
    this.dayStartMs = Math.floor(atMs / DAY_MS) * DAY_MS;
    this.dayEndMs = this.dayStartMs + DAY_MS;
    this.day = utcDay(this.dayStartMs);
    this.counts.set(app, { n: 1 });
  }

  /** Hands the counts to the sink and zeroes them; apps with nothing since the last fold are forgotten. */
  fold(): void {
    for (const [app, cell] of this.counts) {
      if (cell.n === 0) this.counts.delete(app);
      else {
        this.sink(app, this.day, cell.n);
        cell.n = 0;
      }
    }
  }

  /** The counts not folded yet, given to `sink` without clearing them (a live report). */
  peek(sink: RequestSink): void {
    for (const [app, cell] of this.counts) if (cell.n > 0) sink(app, this.day, cell.n);
  }
}
