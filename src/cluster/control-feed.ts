import type { Logger } from 'pino';
import type { Activator } from '../activator/activator.js';
import { messageOf } from '../errors.js';
import type { AdmitOptions } from '../proxy/upstream.js';
import type { RequestRecord } from '../store/store.js';
import { ActivityTable, activatorCalls, type ActivityDelta } from './activity-table.js';
import { applyRouteDelta, routeDelta } from './route-delta.js';
import type { AppSnapshot, FromProxy, ProxySettings, RouteEntry, StateFeed, ToProxy } from './state-feed.js';
import { addressOf, recordOf, requestOf, wakeAnswerOf } from './wire.js';

/** The proxies a feed talks to: worker processes now, other gateways later. */
export interface FeedPeers {
  ids(): Iterable<number>;
  send(id: number, message: ToProxy): void;
}

export interface ControlFeedOptions {
  activator: Activator;
  peers: FeedPeers;
  logger: Logger;
  /** Finished requests from a proxy, for the history, the metrics and the accounting. */
  onRecords: (records: RequestRecord[], peer: number) => void;
  /** How long a barrier waits for a proxy that does not answer (a hung worker serves nothing anyway). */
  fenceTimeoutMs?: number;
  /** Apps another gateway's fence holds now: snapshots show them fenced until the hold ends (then appChanged). */
  held?: (app: string) => boolean;
}

const UPGRADE: AdmitOptions = Object.freeze({ upgrade: true });

/**
 * The control side of the state feed (see state-feed.ts): publishes routes
 * and app snapshots to every proxy, folds their activity reports into the
 * activator's idle clocks, answers their wake requests with the activator's
 * own `admit`, and runs the barrier before idle stops and drains.
 */
export class ControlFeed implements StateFeed {
  private version = 0;
  /** The routed apps as the proxies have them. */
  private readonly routes = new Map<string, RouteEntry>();
  private readonly dirty = new Set<string>();
  private flushScheduled = false;
  /** Apps under a barrier now (a count: a drain and a stop may overlap). */
  private readonly fenced = new Map<string, number>();
  private fenceSeq = 0;
  private readonly fences = new Map<number, { waiting: Set<number>; done: () => void }>();
  /** Per proxy, its wakes not yet answered: the hold's `leave` once the activator holds it, 'left' when its client went before. */
  private readonly wakes = new Map<number, Map<number, (() => void) | 'left' | undefined>>();
  readonly activity = new ActivityTable();

  constructor(private readonly options: ControlFeedOptions) {}

  /**
   * Sends what changed of `routes` (the whole routed set): an apply of one app among
   * thousands costs the proxies one entry, not a copy of every app to decode.
   */
  publishRoutes(routes: readonly RouteEntry[]): void {
    const { set, removed } = routeDelta(this.routes, routes);
    if (set.length === 0 && removed.length === 0) return;
    applyRouteDelta(this.routes, { set, removed });
    this.broadcast({ t: 'routes', version: ++this.version, set, removed });
  }

  /** Coalesced: every change of this turn (a stop fires a state and then empties the slots) goes out once, as it ends. */
  appChanged(app: string): void {
    this.dirty.add(app);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => this.flush());
  }

  /** Sends the pending snapshots now; before any answer to a proxy, so the answer never overtakes the state it follows. */
  flush(): void {
    this.flushScheduled = false;
    if (this.dirty.size === 0) return;
    const apps: AppSnapshot[] = [];
    for (const app of this.dirty) {
      const snapshot = this.snapshot(app);
      if (snapshot) apps.push(snapshot);
    }
    this.dirty.clear();
    if (apps.length > 0) this.broadcast({ t: 'apps', apps });
  }

  private snapshot(app: string): AppSnapshot | undefined {
    const controller = this.options.activator.controller(app);
    const status = this.options.activator.publicStatus(app);
    if (!controller || !status) return undefined;
    const fenced = this.fenced.has(app) || this.options.held?.(app) === true;
    const draining = controller.drainingIds;
    return { app, version: ++this.version, ready: fenced ? [] : controller.readyUpstreams.map(addressOf), status, ...(fenced ? { fenced } : {}), ...(draining.length > 0 ? { draining } : {}) };
  }

  /** The first message to a proxy: settings, routes and every app's snapshot. */
  hello(peer: number, settings: ProxySettings): Extract<ToProxy, { t: 'hello' }> {
    this.flush();
    const routes = [...this.routes.values()];
    const apps = routes.map((r) => this.snapshot(r.app)).filter((s): s is AppSnapshot => s !== undefined);
    return { t: 'hello', worker: peer, settings, version: this.version, routes, apps };
  }

  /** The leader (another gateway) is stopping `app`: every proxy tells its WebSockets on it to go away (tunnels-go-away.ts). */
  tunnelsGoAway(app: string): void {
    this.broadcast({ t: 'goAway', app });
  }

  /**
   * The barrier: every proxy stops admitting `app` by itself and reports its
   * activity; then the caller looks at the counts again and decides. The
   * snapshot that lifts the barrier is sent after the caller's decision
   * (setImmediate runs after its continuation), so it shows the outcome.
   * `then`, another barrier that follows (the other gateways'), runs while the
   * proxies stay fenced: lifted before it, they admitted requests they report
   * only up to 100 ms later, after a decision made on the counts without them.
   */
  async fence(app: string, then?: () => Promise<void>): Promise<void> {
    this.flush();
    this.fenced.set(app, (this.fenced.get(app) ?? 0) + 1);
    try {
      await this.proxiesFenced(app);
      await then?.();
    } finally {
      setImmediate(() => {
        const left = (this.fenced.get(app) ?? 1) - 1;
        if (left > 0) this.fenced.set(app, left);
        else this.fenced.delete(app);
        this.appChanged(app);
      });
    }
  }

  /** Resolves once every proxy has taken the fenced snapshot of `app` and reported its activity (or the timeout passed). */
  private async proxiesFenced(app: string): Promise<void> {
    const snapshot = this.snapshot(app);
    const peers = [...this.options.peers.ids()];
    if (!snapshot || peers.length === 0) return;
    const id = ++this.fenceSeq;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.options.logger.warn({ app, waiting: [...(this.fences.get(id)?.waiting ?? [])] }, 'a proxy worker did not answer the barrier in time');
        resolve();
      }, this.options.fenceTimeoutMs ?? 2_000);
      this.fences.set(id, {
        waiting: new Set(peers),
        done: () => {
          clearTimeout(timer);
          resolve();
        },
      });
      for (const peer of peers) this.options.peers.send(peer, { t: 'fence', id, app: snapshot });
    });
    this.fences.delete(id);
  }

  /** A proxy is gone: what it had in flight ends, and no barrier waits for it. */
  peerLeft(peer: number): void {
    this.apply(this.activity.drop(peer));
    // Its clients went with it: the requests it had held give their places back.
    const pending = this.wakes.get(peer);
    this.wakes.delete(peer);
    for (const leave of pending?.values() ?? []) if (typeof leave === 'function') leave();
    for (const fence of this.fences.values()) {
      if (fence.waiting.delete(peer) && fence.waiting.size === 0) fence.done();
    }
  }

  handle(peer: number, message: FromProxy): void {
    switch (message.t) {
      case 'activity':
        this.apply(this.activity.report(peer, message.apps));
        return;
      case 'records':
        return this.options.onRecords(message.records.map(recordOf), peer);
      case 'fenced': {
        const fence = this.fences.get(message.id);
        if (fence && fence.waiting.delete(peer) && fence.waiting.size === 0) fence.done();
        return;
      }
      case 'wake': {
        const admission = this.options.activator.admit(message.app, requestOf(message.facts), message.facts.upgrade ? UPGRADE : undefined);
        const pending = this.wakesOf(peer);
        pending.set(message.id, undefined);
        const held = (leave: () => void) => {
          if (pending.get(message.id) === 'left') leave();
          else if (pending.has(message.id)) pending.set(message.id, leave);
        };
        void wakeAnswerOf(admission, held).then((answer) => {
          pending.delete(message.id);
          this.reply(peer, { t: 'woken', id: message.id, answer });
        });
        return;
      }
      case 'leave': {
        const pending = this.wakes.get(peer);
        const leave = pending?.get(message.id);
        if (typeof leave === 'function') leave();
        else if (pending?.has(message.id)) pending.set(message.id, 'left');
        return;
      }
      case 'unreachable': {
        const upstream = this.options.activator.controller(message.app)?.slotUpstreams.find((u) => u.instanceId === message.instanceId);
        // Passive health counts the worker's consecutive failures on the instance.
        if (upstream) upstream.failures = Math.max(upstream.failures, message.failures);
        this.options.activator.unreachable(message.app, message.instanceId).then(
          (gone) => this.reply(peer, { t: 'checked', id: message.id, gone }),
          (err: unknown) => {
            this.options.logger.warn({ app: message.app, err: messageOf(err) }, 'checking an unreachable instance failed');
            this.reply(peer, { t: 'checked', id: message.id, gone: false });
          },
        );
        return;
      }
      default:
        return;
    }
  }

  private wakesOf(peer: number): Map<number, (() => void) | 'left' | undefined> {
    let pending = this.wakes.get(peer);
    if (!pending) this.wakes.set(peer, (pending = new Map()));
    return pending;
  }

  /** Answers one proxy, after the snapshots the answer depends on. */
  private reply(peer: number, message: ToProxy): void {
    this.flush();
    this.options.peers.send(peer, message);
  }

  /** Reports become the activator's began/ended calls; per-instance counts go where drains read them. */
  private apply(deltas: readonly ActivityDelta[]): void {
    const { activator } = this.options;
    for (const d of deltas) {
      const calls = activatorCalls(d);
      for (let i = 0; i < calls.began; i++) activator.began(d.app);
      for (let i = 0; i < calls.ended; i++) activator.ended(d.app);
      for (const upstream of activator.controller(d.app)?.slotUpstreams ?? []) upstream.inFlight = this.activity.instanceInFlight(d.app, upstream.instanceId);
    }
  }

  private broadcast(message: ToProxy): void {
    for (const peer of this.options.peers.ids()) this.options.peers.send(peer, message);
  }
}
