/** One app's activity as a heartbeat carries it: requests and WebSockets in flight, and when one last began or ended (epoch ms). */
export type PeerActivityEntry = [app: string, inFlight: number, lastMs: number];

/** Entries older than this with nothing in flight are no longer published: their idle timeouts ran out long ago. */
const FORGET_AFTER_MS = 24 * 3600_000;

/**
 * This gateway's own proxy traffic, per app: what its heartbeat publishes for the
 * leader's idle decisions. Only the local proxy feeds it (never activity folded in
 * from other gateways), so no gateway echoes another's traffic back. No I/O.
 */
export class LocalActivity {
  private readonly apps = new Map<string, { inFlight: number; lastMs: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  began(app: string): void {
    const a = this.apps.get(app);
    if (a) {
      a.inFlight++;
      a.lastMs = this.now();
    } else this.apps.set(app, { inFlight: 1, lastMs: this.now() });
  }

  ended(app: string): void {
    const a = this.apps.get(app);
    if (!a) return;
    a.inFlight = Math.max(0, a.inFlight - 1);
    a.lastMs = this.now();
  }

  /** What the next heartbeat publishes. */
  entries(): PeerActivityEntry[] {
    const cutoff = this.now() - FORGET_AFTER_MS;
    const out: PeerActivityEntry[] = [];
    for (const [app, a] of this.apps) {
      if (a.inFlight === 0 && a.lastMs < cutoff) this.apps.delete(app);
      else out.push([app, a.inFlight, a.lastMs]);
    }
    return out;
  }
}
