import { ActivityTable, type ActivityDelta } from '../activity-table.js';
import type { ActivityEntry } from '../state-feed.js';
import type { PeerActivityEntry } from './local-activity.js';

/** One other live gateway's published activity. */
export interface PeerReport {
  id: string;
  activity: readonly PeerActivityEntry[];
}

/**
 * The other gateways' activity, folded into this gateway's idle clocks the way
 * proxy workers' reports are (ActivityTable): absolute in-flight counts per
 * gateway, and an app whose last-activity time moved since the previous
 * heartbeat counts as touched. A gateway whose heartbeat stopped is dropped and
 * what it had in flight given back. No I/O, no clock.
 */
export class PeerActivity {
  private readonly table = new ActivityTable();
  private readonly numbers = new Map<string, number>();
  private readonly lastSeen = new Map<string, Map<string, number>>();
  private next = 1;

  /** The live peers' reports now (this gateway left out); returns the deltas to apply. */
  fold(peers: readonly PeerReport[]): ActivityDelta[] {
    const out: ActivityDelta[] = [];
    const live = new Set<string>();
    for (const peer of peers) {
      live.add(peer.id);
      let n = this.numbers.get(peer.id);
      if (n === undefined) this.numbers.set(peer.id, (n = this.next++));
      let seen = this.lastSeen.get(peer.id);
      if (!seen) this.lastSeen.set(peer.id, (seen = new Map()));
      const changed: ActivityEntry[] = [];
      for (const [app, inFlight, lastMs] of peer.activity) {
        if (lastMs <= (seen.get(app) ?? 0)) continue;
        seen.set(app, lastMs);
        changed.push([app, inFlight, []]);
      }
      if (changed.length > 0) out.push(...this.table.report(n, changed));
    }
    for (const [id, n] of this.numbers) {
      if (live.has(id)) continue;
      out.push(...this.table.drop(n));
      this.numbers.delete(id);
      this.lastSeen.delete(id);
    }
    return out;
  }

  /** Requests in flight on `app` at the other gateways, as last reported. */
  inFlight(app: string): number {
    return this.table.inFlight(app);
  }
}
