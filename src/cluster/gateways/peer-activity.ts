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
 * gateway, and an app whose count or last-activity time changed since the
 * previous heartbeat counts as touched. Times are compared for change, never for
 * order (a peer's wall clock may step back), and an app a report leaves out is at
 * 0 (a peer restarted under its id knows nothing of the old process's requests).
 * A gateway whose heartbeat stopped is dropped and what it had in flight given
 * back. No I/O, no clock.
 */
export class PeerActivity {
  private readonly table = new ActivityTable();
  private readonly numbers = new Map<string, number>();
  /** Per peer, each app's last reported [inFlight, lastMs]. */
  private readonly lastSeen = new Map<string, Map<string, readonly [number, number]>>();
  private next = 1;

  /** The live peers' reports now (this gateway left out); returns the deltas to apply. */
  fold(peers: readonly PeerReport[]): ActivityDelta[] {
    const out: ActivityDelta[] = [];
    const live = new Set<string>();
    for (const peer of peers) {
      live.add(peer.id);
      let n = this.numbers.get(peer.id);
      if (n === undefined) this.numbers.set(peer.id, (n = this.next++));
      const seen = this.lastSeen.get(peer.id);
      const now = new Map<string, readonly [number, number]>();
      const changed: ActivityEntry[] = [];
      for (const [app, inFlight, lastMs] of peer.activity) {
        const before = seen?.get(app);
        now.set(app, [inFlight, lastMs]);
        if (before && before[0] === inFlight && before[1] === lastMs) continue;
        changed.push([app, inFlight, []]);
      }
      for (const [app, [inFlight]] of seen ?? []) if (inFlight > 0 && !now.has(app)) changed.push([app, 0, []]);
      this.lastSeen.set(peer.id, now);
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
