import { SIGNAL_COUNTS_FOR_MS } from '../../activator/ended-reason.js';

/**
 * The stops the leader announced (its `stopping` notice), so a gateway that does not lead tells the
 * exits they cause as the leader's stop, with its reason, and not as the app's own. An announcement
 * counts for an instance started before it, and for as long as a signal counts for an exit. Both times
 * are cut to the millisecond: one in the start's own millisecond is taken as before the start, as a die
 * event is (app-controller.ts, stale), since a start right after the stop must not have its crash hidden.
 */
export class LeaderStops {
  private readonly stops = new Map<string, { reason: string; atMs: number }>();

  note(app: string, reason: string, atMs: number): void {
    this.stops.set(app, { reason, atMs });
  }

  /** Why the leader stopped `app`, when it announced it after `sinceMs` (not in that millisecond) and recently; else undefined. */
  stoppedSince(app: string, sinceMs: number, nowMs: number): string | undefined {
    const stop = this.stops.get(app);
    if (stop === undefined) return undefined;
    if (nowMs - stop.atMs > SIGNAL_COUNTS_FOR_MS) {
      this.stops.delete(app);
      return undefined;
    }
    return stop.atMs > sinceMs ? stop.reason : undefined;
  }
}
