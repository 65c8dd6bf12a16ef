import type { IncomingMessage } from 'node:http';
import { createBalancerPolicy, type BalancerPolicy } from '../proxy/balancer/balancer-policy.js';
import { tunnelsGoAway } from '../proxy/tunnels-go-away.js';
import type { Admission, Upstream } from '../proxy/upstream.js';
import type { Instance } from '../runtime/runtime.js';
import type { BalancePolicyName } from '../spec/types.js';
import { freeIndexes, type Slot } from './instance-slot.js';

/** Policies that look at the request get this when a caller has none (e.g. an API start). */
const NO_REQUEST = { headers: {} } as IncomingMessage;

/** A container to start for a replica: a parked one of the right spec, or a fresh index. */
export interface ReplicaStart {
  index: number;
  existing: Instance | undefined;
}

/**
 * An app's containers as berth knows them: slots (running, in rotation or
 * draining) and parked instances (stopped, exited or paused, kept for a fast
 * next start), and the balancer that chooses among the ready slots. It decides
 * nothing about the app's life; the controller moves containers in and out.
 */
export class InstanceSet {
  private all: Slot[] = [];
  /** The balancer's view, swapped whole so a request never sees a half-updated list. */
  private ready: Slot[] = [];
  private kept: Instance[] = [];
  /** Parked ids berth paused while they served: a wake may just thaw them (wake-plan.ts). */
  private thawable = new Set<string>();
  private balancer: BalancerPolicy;
  private balance: BalancePolicyName;
  private readyWaiters: Array<() => void> = [];

  /**
   * The ready answer of `admitReady`, reused: the hot path allocates nothing.
   * The proxy reads it at once, before anything else can run.
   */
  private readonly chosen: { kind: 'ready'; upstream: Upstream; setCookie: string | undefined } = { kind: 'ready', upstream: undefined as unknown as Upstream, setCookie: undefined };

  constructor(
    balance: BalancePolicyName,
    private readonly app: string,
    /** Told whenever the set of ready instances may have changed (proxy workers get it pushed). */
    private readonly onReadyChanged?: () => void,
  ) {
    this.balance = balance;
    this.balancer = createBalancerPolicy(balance, app);
  }

  /** A new balance setting takes a new policy; the same one keeps its state (round-robin position, cookies). */
  setBalance(balance: BalancePolicyName): void {
    if (balance === this.balance) return;
    this.balance = balance;
    this.balancer = createBalancerPolicy(balance, this.app);
  }

  get slots(): readonly Slot[] {
    return this.all;
  }

  get parked(): readonly Instance[] {
    return this.kept;
  }

  get readyCount(): number {
    return this.ready.length;
  }

  /** Containers berth knows: running, draining, stopped or paused. */
  get size(): number {
    return this.all.length + this.kept.length;
  }

  /** Slots not draining: the instances that count towards the replica count. */
  get live(): Slot[] {
    return this.all.filter((s) => !s.draining);
  }

  has(slot: Slot): boolean {
    return this.all.includes(slot);
  }

  slotOf(instanceId: string): Slot | undefined {
    return this.all.find((s) => s.instance.id === instanceId);
  }

  /** The first ready instance, or a parked one: what the status shows. */
  get shown(): Instance | undefined {
    return this.ready[0]?.instance ?? this.kept[0];
  }

  /** The upstreams in rotation now, in order: what proxy workers are told. */
  get readyUpstreams(): Upstream[] {
    return this.ready.map((s) => s.upstream);
  }

  /** The instances leaving the rotation whose requests may still finish: proxy workers tell their WebSockets to go away. */
  get drainingIds(): string[] {
    return this.all.filter((s) => s.draining).map((s) => s.instance.id);
  }

  /** The first available upstream, for callers that need any one. */
  get anyUpstream(): Upstream | undefined {
    return this.ready.find((s) => s.available)?.upstream;
  }

  /** Picks a ready instance with the app's balancer policy; undefined when none is ready. */
  pick(req?: IncomingMessage, exclude?: string): Upstream | undefined {
    return this.choose(req, exclude) ? this.chosen.upstream : undefined;
  }

  /** A ready instance for `req` now (other than `exclude`), with its sticky cookie by value (a reused object); undefined when none is ready. */
  admitReady(req: IncomingMessage, exclude?: string): Admission | undefined {
    return this.choose(req, exclude) ? this.chosen : undefined;
  }

  /** As admitReady, but a fresh object the caller may keep. */
  admitted(req?: IncomingMessage): { upstream: Upstream; setCookie: string | undefined } | undefined {
    return this.choose(req) ? { upstream: this.chosen.upstream, setCookie: this.chosen.setCookie } : undefined;
  }

  /** Chooses into `this.chosen`; false when no instance is ready. */
  private choose(req?: IncomingMessage, exclude?: string): boolean {
    const ready = this.ready;
    if (ready.length === 0) return false;
    // One instance and a policy that needs no request: no choice to make (the common, hot case).
    if (ready.length === 1 && !this.balancer.needsRequest) {
      const only = ready[0]!.upstream;
      if (only.instanceId === exclude) return false;
      this.chosen.upstream = only;
      this.chosen.setCookie = undefined;
      return true;
    }
    const candidates = exclude === undefined ? ready : ready.filter((s) => s.upstream.instanceId !== exclude);
    const selection = this.balancer.select(candidates, req ?? NO_REQUEST);
    if (!selection) return false;
    this.chosen.upstream = (selection.candidate as Slot).upstream;
    this.chosen.setCookie = selection.setCookie;
    return true;
  }

  /** Resolves once an instance is ready, or after `timeoutMs` (the caller then finds none). */
  readySoon(timeoutMs: number): Promise<void> {
    if (this.pick()) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.readyWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Puts a ready slot in rotation, in place of any slot of its index. */
  add(slot: Slot): void {
    this.all = [...this.all.filter((s) => s.index !== slot.index), slot];
    this.rebuild();
  }

  /** Swaps a restarted slot in for the one it replaces. */
  replace(old: Slot, fresh: Slot): void {
    this.all = this.all.map((s) => (s === old ? fresh : s));
    this.rebuild();
  }

  /** Takes a slot out of the set (its container is gone or handed elsewhere). */
  drop(slot: Slot): void {
    this.all = this.all.filter((s) => s !== slot);
    this.rebuild();
  }

  /** The whole slot list at once (a rollout's steps). */
  setSlots(slots: readonly Slot[]): void {
    this.all = [...slots];
    this.rebuild();
  }

  /** A slot leaves the rotation and its requests may finish (a drain, a stop, a health failure). */
  takeOutOfRotation(slot: Slot, how: 'draining' | 'unhealthy'): void {
    slot[how] = true;
    this.rebuild();
  }

  /** Every slot stops taking requests (a stop is under way). */
  drainAll(): void {
    for (const slot of this.all) slot.draining = true;
    this.rebuild();
    // Open WebSockets would hold the stop for its whole drain bound: they are told to go away.
    this.tunnelsGoAway();
  }

  /** Tells the WebSockets this gateway's proxy holds on these instances to go away (tunnels-go-away.ts). */
  tunnelsGoAway(): void {
    for (const slot of this.all) tunnelsGoAway(slot.upstream);
  }

  /** Empties the slots, returning their instances (a stop, pause or removal is under way). */
  takeSlots(): Slot[] {
    const slots = this.all;
    this.all = [];
    this.rebuild();
    return slots;
  }

  /** Keeps an instance that no longer runs (stopped, exited, paused) for a later start, replacing any record of it. */
  park(instance: Instance): void {
    this.kept = [...this.kept.filter((i) => i.id !== instance.id), instance];
    this.thawable.delete(instance.id);
  }

  /** The parked instances, all at once; none is thawable until `markThawable` says so. */
  setParked(instances: Instance[]): void {
    this.kept = instances;
    this.thawable.clear();
  }

  /** Parked instances berth has just paused while they served (ready, in rotation). */
  markThawable(ids: readonly string[]): void {
    for (const id of ids) if (this.kept.some((i) => i.id === id)) this.thawable.add(id);
  }

  /** Whether a wake may just thaw the instance; asked once: a failed thaw is not tried again. */
  takeThawable(id: string): boolean {
    return this.thawable.delete(id);
  }

  /** Forgets parked instances, e.g. removed by the engine, or of a spec that is gone. */
  forget(keep: (instance: Instance) => boolean): void {
    this.kept = this.kept.filter(keep);
    for (const id of this.thawable) if (!this.kept.some((i) => i.id === id)) this.thawable.delete(id);
  }

  /** Parked instances of `hash`, in order: the containers a start reuses. */
  reusable(hash: string): Instance[] {
    return this.kept.filter((i) => i.specHash === hash);
  }

  /** What to start to reach `count` live instances: parked ones of `hash` first, then new indexes. Claims the parked ones. */
  claimReplicaStarts(hash: string, missing: number): ReplicaStart[] {
    const used = new Set(this.all.map((s) => s.index));
    const reuse = this.kept.filter((i) => i.specHash === hash && !used.has(i.index)).slice(0, missing);
    const fresh = freeIndexes([...used, ...this.kept.map((i) => i.index)], missing - reuse.length);
    this.kept = this.kept.filter((i) => !reuse.includes(i));
    return [...reuse.map((i) => ({ index: i.index, existing: i as Instance | undefined })), ...fresh.map((index) => ({ index, existing: undefined }))];
  }

  /** The index a first start uses: a reusable container's, or the lowest free one. */
  firstIndex(hash: string): ReplicaStart {
    const first = this.reusable(hash)[0];
    return { index: first?.index ?? freeIndexes(this.kept.map((i) => i.index), 1)[0]!, existing: first };
  }

  private rebuild(): void {
    this.ready = this.all.filter((s) => s.available);
    this.onReadyChanged?.();
    if (this.ready.length > 0) for (const wake of this.readyWaiters.splice(0)) wake();
  }
}
