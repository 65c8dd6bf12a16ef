import pg from 'pg';
import type { Logger } from 'pino';
import type { AppStatus } from '../../activator/app-status.js';
import { messageOf } from '../../errors.js';
import type { ActivityDelta } from '../activity-table.js';
import { AppLeases } from './app-lease.js';
import { setDeadPeerProbes } from './dead-peer.js';
import { CLUSTER_CHANNEL, encodeNotice, type ClusterNotice } from './cluster-notice.js';
import { ALIVE_MS, beat, forgetGone, leave, listGateways, othersAlive, readAppStates, writeAppStates, type GatewayInfo, type SelfInfo } from './gateway-registry.js';
import { LeaderLease } from './leader-lease.js';
import { LocalActivity } from './local-activity.js';
import { PeerActivity } from './peer-activity.js';
import { FenceHolds } from './fence-holds.js';
import { LeaderStops } from './leader-stops.js';
import { FreshRun } from './fresh-run.js';

/** What the cluster needs of the gateway it runs in. */
export interface ClusterHost {
  statuses(): AppStatus[];
  status(app: string): AppStatus | undefined;
  /** Other gateways' activity, as began/ended for this gateway's idle clocks. */
  applyPeerDeltas(deltas: readonly ActivityDelta[]): void;
  /** Another gateway changed desired state: these apps (undefined: any) are read again. */
  desiredChanged(apps: string[] | undefined): void;
  leadingChanged(leading: boolean): void;
  /**
   * With proxy workers: the leader fenced `app`, so this gateway's workers must stop
   * admitting it by themselves and report their activity, before this gateway writes
   * its own and answers (the workers' barrier, control-feed.ts). Without it a worker
   * kept serving from its snapshot, and its last ~100 ms of requests were not in the
   * answer the leader decided an idle stop on.
   */
  quiesceLocal?(app: string): Promise<void>;
  /** A hold on `app` ended: whoever serves from snapshots (the workers) may admit it again. */
  holdEnded?(app: string): void;
  /**
   * The leader announced it stopped `app` (at `atMs`, epoch ms). The notice and the engine's
   * die events of that stop are not ordered: exits already told here as the app's own are
   * told again as the leader's stop.
   */
  leaderStopped?(app: string, reason: string, atMs: number): void;
}

export interface GatewayClusterOptions {
  url: string;
  logger: Logger;
  self: () => SelfInfo;
  host: ClusterHost;
  heartbeatMs?: number;
  /** How long the leader waits for the others to answer a fence. */
  fenceTimeoutMs?: number;
}

/**
 * Several gateways on one PostgreSQL store, as seen from one of them: the
 * leader lease (one leader acts: reconcile, idle stops, removals, usage), the
 * heartbeat (registry row, this gateway's activity, the leader's app states),
 * desired-state notices, per-app leases for cold starts, and the fence before
 * an idle stop. The same three flows as the proxy workers' state feed
 * (state-feed.ts) across hosts: state out (the tables, with a notice), activity
 * in (heartbeats), single-flight starts (the per-app lease).
 */
export class GatewayCluster {
  readonly local = new LocalActivity();
  private readonly peers = new PeerActivity();
  private readonly pool: pg.Pool;
  /** The per-app leases' own connections: each is held through a cold start's engine calls (or an idle stop), so sharing `pool` starved the heartbeat. */
  private readonly leasePool: pg.Pool;
  private readonly lease: LeaderLease;
  readonly leases: AppLeases;
  readonly holds: FenceHolds;
  /** The stops the leader announced (read by a gateway that does not lead). */
  readonly leaderStops = new LeaderStops();
  private timer?: NodeJS.Timeout;
  /** Heartbeats one at a time; a fence's answer waits for one begun after the fence came. */
  private readonly beats = new FreshRun(() => this.beat());
  private fenceSeq = 0;
  private readonly fences = new Map<number, { waiting: Set<string>; done: () => void }>();
  private written = new Map<string, string>();
  private closed = false;
  /** The registry as last read (all gateways, this one included). */
  gateways: GatewayInfo[] = [];
  /** The leader's app states as last read (used by a gateway that does not lead). */
  leaderStates = new Map<string, Record<string, unknown>>();
  /** Whether the last heartbeat reached the store. */
  storeReachable = true;

  constructor(private readonly options: GatewayClusterOptions) {
    this.pool = new pg.Pool({ connectionString: options.url, max: 6, connectionTimeoutMillis: 1_500, query_timeout: 3_000, application_name: 'berth-cluster' });
    // A connection the server drops (a restart) must not end the process; the next query opens another.
    this.pool.on('error', () => undefined);
    this.leasePool = new pg.Pool({ connectionString: options.url, max: 12, connectionTimeoutMillis: 1_500, query_timeout: 3_000, application_name: 'berth-leases' });
    this.leasePool.on('error', () => undefined);
    // A lease is held on its connection for a whole start: a gateway whose host vanishes mid-start must not keep it for hours.
    this.leasePool.on('connect', (client) => void setDeadPeerProbes(client));
    this.leases = new AppLeases(this.leasePool, options.logger);
    this.holds = new FenceHolds((app) => options.host.status(app)?.state, (app) => options.host.holdEnded?.(app));
    this.lease = new LeaderLease({
      url: options.url,
      logger: options.logger,
      onLeading: (leading) => {
        options.host.leadingChanged(leading);
        void this.heartbeat();
      },
      onNotice: (notice) => this.onNotice(notice),
      // A leader cut off keeps its last heartbeat for at most its lease (2 s): anything older than that and ALIVE_MS cannot be acting.
      othersAlive: () => othersAlive(this.pool, this.id, ALIVE_MS + 2_000),
      // Notices sent while this gateway was not listening are lost: read everything again.
      onConnected: () => options.host.desiredChanged(undefined),
    });
  }

  get id(): string {
    return this.options.self().id;
  }

  get leading(): boolean {
    return this.lease.leading;
  }

  /** Tries the leader lock once, writes the first heartbeat, then keeps both going. */
  async start(): Promise<void> {
    await this.lease.start();
    await this.heartbeat();
    this.timer = setInterval(() => void this.heartbeat(), this.options.heartbeatMs ?? 1_000);
    this.timer.unref();
  }

  /** Tells the other gateways that desired state changed (undefined: any app). Never rejects. */
  announce(apps: readonly string[] | undefined): void {
    this.notify(apps === undefined ? { k: 'desired', from: this.id } : { k: 'desired', from: this.id, apps: [...apps] });
  }

  private notify(notice: ClusterNotice): void {
    this.pool.query('SELECT pg_notify($1, $2)', [CLUSTER_CHANNEL, encodeNotice(notice)]).catch((err: unknown) => {
      this.options.logger.debug({ err: messageOf(err), notice: notice.k }, 'a cluster notice could not be sent (the periodic resync covers it)');
    });
  }

  private onNotice(notice: ClusterNotice): void {
    if (notice.from === this.id) return;
    switch (notice.k) {
      case 'desired':
        return this.options.host.desiredChanged(notice.apps);
      case 'fence': {
        this.holds.hold(notice.app);
        // The workers' activity is in this gateway's count first; then it is written, before the answer, so the leader reads it after the answer.
        const local = this.options.host.quiesceLocal?.(notice.app).catch(() => undefined) ?? Promise.resolve();
        void local.then(() => this.heartbeat()).finally(() => this.notify({ k: 'fenced', from: this.id, id: notice.id }));
        return;
      }
      case 'fenced': {
        const fence = this.fences.get(notice.id);
        if (fence && fence.waiting.delete(notice.from) && fence.waiting.size === 0) fence.done();
        return;
      }
      case 'unfence':
        return this.holds.release(notice.app, notice.stopping);
      case 'stopping': {
        const atMs = Date.now();
        this.leaderStops.note(notice.app, notice.reason, atMs);
        return this.options.host.leaderStopped?.(notice.app, notice.reason, atMs);
      }
    }
  }

  /** The leader tells the others it is stopping `app`, so they tell the exits as its stop. Never rejects. */
  announceStop(app: string, reason: string): void {
    if (this.leading) this.notify({ k: 'stopping', from: this.id, app, reason });
  }

  /**
   * The leader's barrier before an idle stop or a drain: every other live gateway
   * holds new requests for `app` and writes its activity; then the registry is read
   * again and folded in, and the caller looks at the idle clock once more. The
   * decision is sent after the caller's continuation (setImmediate), as the workers' fence does.
   */
  async fence(app: string): Promise<void> {
    const others = this.gateways.filter((g) => g.alive && g.id !== this.id).map((g) => g.id);
    if (!this.leading || others.length === 0) return;
    const id = ++this.fenceSeq;
    try {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.fenceTimeoutMs ?? 1_500);
        this.fences.set(id, {
          waiting: new Set(others),
          done: () => {
            clearTimeout(timer);
            resolve();
          },
        });
        this.notify({ k: 'fence', from: this.id, id, app });
      });
      await this.readPeers();
    } finally {
      this.fences.delete(id);
      setImmediate(() => {
        const state = this.options.host.status(app)?.state;
        this.notify({ k: 'unfence', from: this.id, app, stopping: state === 'stopping' || state === 'stopped' });
      });
    }
  }

  /** A heartbeat begun from now (one under way carries activity from before this call: the next one follows it). */
  private heartbeat(): Promise<void> {
    return this.closed ? Promise.resolve() : this.beats.run();
  }

  /** One heartbeat: this gateway's row, the registry and the peers' activity read back, the leader's states written or read. */
  private async beat(): Promise<void> {
    if (this.closed) return;
    try {
      await beat(this.pool, this.options.self(), this.leading, this.local.entries());
      await this.readPeers();
      if (this.leading) await this.publishStates();
      else this.leaderStates = await readAppStates(this.pool);
      if (!this.storeReachable) this.options.logger.info('heartbeats reach the store again');
      this.storeReachable = true;
    } catch (err) {
      if (this.storeReachable) this.options.logger.warn({ err: messageOf(err) }, 'heartbeat failed: the store does not answer; serving on');
      this.storeReachable = false;
      // Cut off, this gateway acts for itself (cold starts go ahead without leases): its own view is the true one, not the leader's last.
      this.leaderStates = new Map();
    }
  }

  private async readPeers(): Promise<void> {
    this.gateways = await listGateways(this.pool);
    const peers = this.gateways.filter((g) => g.alive && g.id !== this.id);
    this.options.host.applyPeerDeltas(this.peers.fold(peers));
  }

  /** The leader writes app states that changed since its last heartbeat (what the others' API shows). */
  private async publishStates(): Promise<void> {
    const statuses = this.options.host.statuses();
    const changed: Array<[string, string]> = [];
    const next = new Map<string, string>();
    for (const s of statuses) {
      const text = JSON.stringify(s);
      next.set(s.name, text);
      if (this.written.get(s.name) !== text) changed.push([s.name, text]);
    }
    await writeAppStates(this.pool, changed, statuses.map((s) => s.name));
    this.written = next;
    if (Math.random() < 0.01) await forgetGone(this.pool);
  }

  /** A peer's share of `app`'s activity, as last reported. */
  peerInFlight(app: string): number {
    return this.peers.inFlight(app);
  }

  /** Leaves the registry, gives leadership up and closes the connections. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.holds.close();
    await this.lease.close();
    await leave(this.pool, this.id).catch(() => undefined);
    await this.pool.end().catch(() => undefined);
    await this.leasePool.end().catch(() => undefined);
  }
}
