import type { IncomingMessage } from 'node:http';
import { createBalancerPolicy, type BalancerPolicy, type Candidate } from '../proxy/balancer/balancer-policy.js';
import { tunnelsGoAway } from '../proxy/tunnels-go-away.js';
import type { UpgradeExchange } from '../proxy/forward-upgrade.js';
import type { Admission, PublicStatus, Upstream } from '../proxy/upstream.js';
import type { BalancePolicyName } from '../spec/types.js';
import type { AppSnapshot, UpstreamAddress } from './state-feed.js';

/** A worker's instance as its balancer sees it: always available (the control sends only instances in rotation). */
class WorkerCandidate implements Candidate {
  readonly available = true;
  constructor(readonly upstream: Upstream) {}
  get inFlight(): number {
    return this.upstream.inFlight;
  }
}

/**
 * A worker's Upstream whose in-flight count tells the worker's activity when it
 * changes. The control's drains wait on per-instance counts, and a worker reports
 * them only with its app's activity: a request held for a cold start (a WebSocket,
 * a long poll) reaches its instance after the report of its beginning, and a retry
 * moves to another instance long after it, with nothing begun or ended meanwhile.
 * Unmarked, the control kept 0 on that instance, and a rolling update or a scale
 * down stopped it at once under the open WebSocket instead of draining it.
 */
class CountedUpstream implements Upstream {
  private count = 0;
  failures = 0;
  tunnels?: Set<UpgradeExchange>;
  readonly origin: string;
  constructor(
    readonly app: string,
    readonly instanceId: string,
    readonly instanceName: string | undefined,
    readonly host: string,
    readonly port: number,
    private readonly changed: () => void,
  ) {
    this.origin = `http://${host}:${port}`;
  }
  get inFlight(): number {
    return this.count;
  }
  set inFlight(n: number) {
    this.count = n;
    this.changed();
  }
}

/** Whether a snapshot of version `incoming` may replace one of version `held`: only a newer one does. Pure. */
export function isNewer(held: number, incoming: number): boolean {
  return incoming > held;
}

/**
 * One app as a proxy worker knows it from the control's snapshots: its ready
 * instances and the balancer that picks among them, with the same policies
 * and the same allocation-free answer as the activator's instance set. The
 * Upstream objects are kept by instance id across snapshots, so a worker's
 * in-flight counts (least-connections, drains) survive an update.
 */
export class ReadySet {
  version = -1;
  status: PublicStatus = { state: 'stopped', ready: false };
  private candidates: WorkerCandidate[] = [];
  private readonly known = new Map<string, Upstream>();
  private balancer: BalancerPolicy;
  private readonly chosen: { kind: 'ready'; upstream: Upstream; setCookie: string | undefined } = { kind: 'ready', upstream: undefined as unknown as Upstream, setCookie: undefined };

  constructor(
    private readonly app: string,
    private balance: BalancePolicyName,
    /** An instance's in-flight count changed (the worker's next activity report carries it). */
    private readonly countChanged: () => void = () => undefined,
  ) {
    this.balancer = createBalancerPolicy(balance, app);
  }

  setBalance(balance: BalancePolicyName): void {
    if (balance === this.balance) return;
    this.balance = balance;
    this.balancer = createBalancerPolicy(balance, this.app);
  }

  /** Takes a snapshot if it is newer; a fenced one leaves nothing to admit locally. Returns whether it was taken. */
  apply(snapshot: AppSnapshot): boolean {
    if (!isNewer(this.version, snapshot.version)) return false;
    this.version = snapshot.version;
    this.status = snapshot.status;
    const ready = snapshot.fenced ? [] : snapshot.ready;
    this.candidates = ready.map((address) => new WorkerCandidate(this.upstreamFor(address)));
    // The control drains these (a stop, a scale-down, an update): this worker's WebSockets on them go away now,
    // as the control's own do (tunnels-go-away.ts), instead of holding the drain for its whole bound.
    for (const id of snapshot.draining ?? []) {
      const upstream = this.known.get(id);
      if (upstream) tunnelsGoAway(upstream);
    }
    // Instances that left rotation are forgotten once nothing of this worker is in flight on them.
    const live = new Set(snapshot.ready.map((a) => a.id));
    for (const [id, upstream] of this.known) if (!live.has(id) && upstream.inFlight === 0) this.known.delete(id);
    return true;
  }

  /** Tells this worker's WebSockets on each instance it knows to go away. */
  tunnelsGoAway(): void {
    for (const upstream of this.known.values()) tunnelsGoAway(upstream);
  }

  get readyCount(): number {
    return this.candidates.length;
  }

  /** A ready instance now (a reused object: read it at once), or undefined: then the control is asked. */
  admit(req: IncomingMessage, exclude?: string): Admission | undefined {
    const candidates = this.candidates;
    if (candidates.length === 0) return undefined;
    if (candidates.length === 1 && !this.balancer.needsRequest) {
      const only = candidates[0]!.upstream;
      if (only.instanceId === exclude) return undefined;
      this.chosen.upstream = only;
      this.chosen.setCookie = undefined;
      return this.chosen;
    }
    const among = exclude === undefined ? candidates : candidates.filter((c) => c.upstream.instanceId !== exclude);
    const selection = this.balancer.select(among, req);
    if (!selection) return undefined;
    this.chosen.upstream = selection.candidate.upstream;
    this.chosen.setCookie = selection.setCookie;
    return this.chosen;
  }

  /**
   * This worker's Upstream for an instance (the same object for the same id),
   * made on first sight. A container restarted on another port gets a new one;
   * requests on the old one decrement the old one's count.
   */
  upstreamFor(address: UpstreamAddress): Upstream {
    let upstream = this.known.get(address.id);
    if (!upstream || upstream.port !== address.port || upstream.host !== address.host) {
      upstream = new CountedUpstream(this.app, address.id, address.name, address.host, address.port, this.countChanged);
      this.known.set(address.id, upstream);
    }
    return upstream;
  }

  /** Consecutive connection failures this worker saw on an instance (the control's passive health reads them). */
  failuresOf(instanceId: string): number {
    return this.known.get(instanceId)?.failures ?? 0;
  }

  /** Per instance, this worker's requests in flight (only those above 0). */
  inFlightByInstance(): Array<[string, number]> {
    const out: Array<[string, number]> = [];
    for (const [id, upstream] of this.known) if (upstream.inFlight > 0) out.push([id, upstream.inFlight]);
    return out;
  }
}
