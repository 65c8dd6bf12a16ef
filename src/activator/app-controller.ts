import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { BerthError, EngineUnavailableError, messageOf } from '../errors.js';
import { createBalancerPolicy, type BalancerPolicy } from '../proxy/balancer/balancer-policy.js';
import type { Admission, Admitted, Upstream } from '../proxy/upstream.js';
import type { Instance, Runtime } from '../runtime/runtime.js';
import { containerSpecHash, withContainerOf } from '../spec/hash.js';
import { policyIssues } from '../spec/policy.js';
import type { AppSpec, DockerPolicy, WaitingPageText } from '../spec/types.js';
import type { AppState, AppStatus } from './app-status.js';
import { AdmissionGate } from './admission.js';
import type { CrashBackoff } from './crash-backoff.js';
import { HealthChecker } from './health-checker.js';
import { IdleClock } from './idle-clock.js';
import { isIllegal, transition, type LifecycleAction, type LifecycleEvent } from './lifecycle.js';
import { drainSlot, freeIndexes, Slot, startSlot } from './instance-slot.js';
import { waitUntilReady } from './readiness.js';
import { replaceInstances } from './rollout.js';
import { NoInstanceError, StartFailedError } from './start-errors.js';
import type { BelievedApp } from './resync-plan.js';

export { StartFailedError } from './start-errors.js';

/** Gateway-wide defaults an app falls back on; they change on reload. */
export interface AppDefaults {
  idleTimeoutMs: number;
  queueSize: number;
  waitingPage: WaitingPageText;
  /** The launch policy in force now; re-checked at every start, since it may have narrowed since the app was accepted. */
  policy: DockerPolicy;
}

export interface AppControllerDeps {
  runtime: Runtime;
  logger: Logger;
  defaults: () => AppDefaults;
  onChange: (status: AppStatus) => void;
  /** Wakes the apps this one depends on, in order, and holds them up until `release` (returned) is called. */
  wakeDependencies?: (spec: AppSpec) => Promise<() => void>;
}

/** An instance that dies sooner than this after becoming ready counts as a crash. */
const EARLY_EXIT_MS = 30_000;

/** How long the engine is asked whether an unreachable instance has exited: it records an exit a few milliseconds after the fact. */
const UNREACHABLE_CHECK_MS = 500;

/** Consecutive connection failures that take an instance out of rotation (passive health). */
const PASSIVE_EJECT_AFTER = 3;

/** How long old instances may finish their requests after an update, a scale-down or a stop. */
const DRAIN_MS = 30_000;

/**
 * Owns one app's instances and their life: starts them once however many
 * requests want them (single flight), balances requests over the ready ones,
 * stops or pauses them when idle, notices when they die, replaces them without
 * downtime when the spec changes, and backs off when the app keeps failing.
 * Lifecycle steps run one at a time through `serial`, so a request that
 * arrives while the app is being stopped waits for the stop, then wakes it.
 */
export class AppController {
  spec: AppSpec;
  private state: AppState = 'stopped';
  private since = new Date();
  private lastError?: string;
  private lastStartMs?: number;
  /** Why berth entered `state`, when it chose to (see AppStatus.reason). */
  private reason?: string;
  /** Instances in rotation or draining; the balancer sees `ready`. */
  private slots: Slot[] = [];
  private ready: Slot[] = [];
  /** Containers kept while the app is stopped or paused, for a fast next start. */
  private parked: Instance[] = [];
  private replicas: number;
  private balancer: BalancerPolicy;
  private starting?: Promise<void>;
  private lifecycle: Promise<unknown> = Promise.resolve();
  /** Queue bound, crash-loop backoff and engine outage: who may wait for a start. */
  private readonly gate: AdmissionGate;
  private get backoff(): CrashBackoff {
    return this.gate.backoff;
  }
  private readonly idle: IdleClock;
  private readonly health: HealthChecker;
  private readyWaiters: Array<() => void> = [];
  private releaseDependencies?: () => void;
  /** Container hash of the last revision that was rolled back: not tried again until a spec with other containers comes. */
  private rejectedHash?: string;
  private removeTimer?: NodeJS.Timeout;
  private closed = false;
  /** The container the current start launched, until it is ready: a failed start stops it. */
  private startingInstance?: Instance;
  /** Cancels the start in progress when the app is deleted or the gateway shuts down. */
  private startAbort?: AbortController;
  private closedWhy = 'the gateway is shutting down';

  constructor(
    spec: AppSpec,
    private readonly deps: AppControllerDeps,
  ) {
    this.spec = spec;
    this.replicas = spec.scale.replicas;
    this.balancer = createBalancerPolicy(spec.balance, spec.name);
    this.idle = new IdleClock(() => this.onIdle());
    this.gate = new AdmissionGate(() => deps.runtime.probe());
    this.health = new HealthChecker({ logger: deps.logger, onUnhealthy: (slot) => void this.recover(slot, 'failed its health checks') });
  }

  get name(): string {
    return this.spec.name;
  }

  get currentState(): AppState {
    return this.state;
  }

  get inFlight(): number {
    return this.idle.inFlight;
  }

  /** Containers the controller knows: running, draining, stopped or paused. */
  get containerCount(): number {
    return this.slots.length + this.parked.length;
  }

  /** The first ready instance, for callers that need any one (kept for the fast path's tests). */
  get upstream(): Upstream | undefined {
    return this.ready.find((s) => s.available)?.upstream;
  }

  status(): AppStatus {
    const retryMs = this.state === 'crashloop' ? this.backoff.waitMs(performance.now()) : 0;
    const first = this.ready[0]?.instance ?? this.parked[0];
    return {
      name: this.name,
      state: this.state,
      since: this.since,
      lastActivity: this.idle.lastActivity,
      idleAt: this.state === 'running' && this.spec.scale.min === 0 ? this.idle.idleAt : undefined,
      retryAt: retryMs > 0 ? new Date(Date.now() + retryMs) : undefined,
      reason: this.reason,
      lastError: this.lastError,
      lastStartMs: this.lastStartMs,
      inFlight: this.idle.inFlight,
      waiting: this.gate.waiting,
      replicas: this.replicas,
      readyInstances: this.ready.filter((s) => s.available).length,
      instance: first ? { id: first.id, address: first.address ? `${first.address.host}:${first.address.port}` : undefined } : undefined,
    };
  }

  /** Picks a ready instance with the app's balancer policy; undefined when none is ready. */
  pick(req?: IncomingMessage, exclude?: string): Upstream | undefined {
    return this.choose(req, exclude) ? this.chosen.upstream : undefined;
  }

  /**
   * The ready answer of `admitReady`, reused: the hot path allocates nothing.
   * The proxy reads it at once, before anything else can run.
   */
  private readonly chosen: { kind: 'ready'; upstream: Upstream; setCookie: string | undefined } = { kind: 'ready', upstream: undefined as unknown as Upstream, setCookie: undefined };

  /** A ready instance for `req` now, with its sticky cookie by value; undefined when none is ready. */
  admitReady(req: IncomingMessage): Admission | undefined {
    return this.choose(req) ? this.chosen : undefined;
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

  /**
   * A ready instance, starting the app first if needed. Concurrent callers
   * share one start; beyond the queue size they are refused at once, and while
   * the app is crash-looping they are told when to come back.
   */
  async acquire(req?: IncomingMessage): Promise<Upstream> {
    return (await this.acquireFor(req)).upstream;
  }

  /** `acquire`, with the sticky cookie chosen for this request, by value. */
  async acquireFor(req?: IncomingMessage): Promise<Admitted> {
    if (this.choose(req)) return { upstream: this.chosen.upstream, setCookie: this.chosen.setCookie };
    const refused = this.gate.refusal(this.name, this.lastError, this.spec.queueSize ?? this.deps.defaults().queueSize);
    if (refused) throw refused;
    this.gate.waiting++;
    try {
      if (this.state === 'running') await this.readySoon();
      else {
        this.starting ??= this.serial(() => this.start()).finally(() => (this.starting = undefined));
        await this.starting;
      }
    } finally {
      this.gate.waiting--;
    }
    if (!this.choose(req)) throw new NoInstanceError(this.name);
    return { upstream: this.chosen.upstream, setCookie: this.chosen.setCookie };
  }

  /** Running but no instance in rotation (all unhealthy or replaced): wait for one, bounded by the start timeout. */
  private readySoon(): Promise<void> {
    if (this.pick()) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, this.spec.startTimeoutMs);
      this.readyWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Runs lifecycle steps one after another, whatever the outcome of the previous one. */
  private serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.lifecycle.then(step);
    this.lifecycle = run.catch(() => undefined);
    return run;
  }

  /** Starts the first instance and returns once it is ready; the other replicas follow in the background. */
  private async start(): Promise<void> {
    if (this.ready.length > 0 && this.state === 'running') return;
    if (this.closed) throw new StartFailedError(this.name, this.closedWhy, false);
    const abort = (this.startAbort = new AbortController());
    const began = performance.now();
    const spec = this.spec;
    clearTimeout(this.removeTimer);
    this.startingInstance = undefined;
    this.fire('wake');
    try {
      const denied = policyIssues(spec, this.deps.defaults().policy);
      if (denied.length > 0) throw new Error(`the gateway's policy no longer allows it: ${denied.map((d) => d.message).join('; ')}`);
      this.releaseDependencies ??= await this.deps.wakeDependencies?.(spec);
      const hash = containerSpecHash(spec);
      const reusable = this.parked.filter((i) => i.specHash === hash);
      const first = reusable[0];
      const index = first?.index ?? freeIndexes(this.parked.map((i) => i.index), 1)[0]!;
      const slot = await startSlot(this.deps.runtime, spec, index, began + spec.startTimeoutMs, first, (i) => (this.startingInstance = i), abort.signal);
      this.startingInstance = undefined;
      this.parked = this.parked.filter((i) => i.index !== index);
      this.addReady(slot);
      this.lastStartMs = Math.round(performance.now() - began);
      this.lastError = undefined;
      // The idle timeout counts from readiness, not from a request that ended while it started.
      this.idle.touch();
      this.fire('ready');
    } catch (err) {
      throw this.startFailed(err);
    }
  }

  /** Brings the number of instances up to the replica count, in the background; failures are logged, not fatal. */
  private async fillReplicas(): Promise<void> {
    const missing = this.replicas - this.slots.filter((s) => !s.draining).length;
    if (missing <= 0 || this.state !== 'running') return;
    const hash = containerSpecHash(this.spec);
    const used = new Set([...this.slots.map((s) => s.index)]);
    const reuse = this.parked.filter((i) => i.specHash === hash && !used.has(i.index)).slice(0, missing);
    const fresh = freeIndexes([...used, ...this.parked.map((i) => i.index)], missing - reuse.length);
    const spec = this.spec;
    const starts = [...reuse.map((i) => ({ index: i.index, existing: i as Instance | undefined })), ...fresh.map((index) => ({ index, existing: undefined }))];
    this.parked = this.parked.filter((i) => !reuse.includes(i));
    await Promise.all(
      starts.map(async ({ index, existing }) => {
        try {
          const slot = await startSlot(this.deps.runtime, spec, index, performance.now() + spec.startTimeoutMs, existing);
          if (this.state !== 'running' || this.spec !== spec) {
            await this.deps.runtime.stop(slot.instance.id).catch(() => undefined);
            return;
          }
          this.addReady(slot);
        } catch (err) {
          this.deps.logger.warn({ app: this.name, index, err: messageOf(err) }, 'replica failed to start');
        }
      }),
    );
  }

  private addReady(slot: Slot): void {
    this.slots = [...this.slots.filter((s) => s.index !== slot.index), slot];
    this.rebuildReady();
  }

  /** The balancer's view: swapped whole, so a request never sees a half-updated list. */
  private rebuildReady(): void {
    this.ready = this.slots.filter((s) => s.available);
    if (this.ready.length > 0) for (const wake of this.readyWaiters.splice(0)) wake();
  }

  /** Every waiter gets the same answer: 502, or 504 on a timeout; repeated failures become a crash loop. */
  private startFailed(err: unknown): Error {
    if (err instanceof EngineUnavailableError) {
      // The engine's outage, not the app's: no crash-loop count, and waiters get 503 with Retry-After.
      this.lastError = err.message;
      this.gate.engineDown(err.retryAfterS);
      this.fire('engineDown');
      this.deps.logger.warn({ app: this.name, err: err.message }, 'app could not start: the Docker engine is unavailable');
      return err;
    }
    if (this.closed) {
      // Deleted (or shut down) mid-start: a clear answer for every waiter now, and no crash counted.
      this.fire('startFailed', this.closedWhy);
      return new StartFailedError(this.name, this.closedWhy, false);
    }
    const failure = err instanceof StartFailedError ? err : new StartFailedError(this.name, messageOf(err), false);
    this.lastError = failure.message;
    const delay = this.backoff.fail(performance.now());
    this.fire(delay > 0 ? 'crashLooped' : 'startFailed');
    this.startingInstance = undefined;
    this.deps.logger.warn({ app: this.name, err: failure.message, retryInMs: delay || undefined }, 'app failed to start');
    return failure;
  }

  /** Takes over the app's containers found at gateway start: running ones serve at once, others are kept for the next start. */
  async adopt(instances: readonly Instance[]): Promise<void> {
    const hash = containerSpecHash(this.spec);
    for (const instance of instances) {
      if (instance.specHash !== hash || this.slots.some((s) => s.instance.id === instance.id)) continue;
      this.parked = this.parked.filter((i) => i.id !== instance.id);
      if (instance.state === 'running' && instance.address) {
        const probe = await waitUntilReady(instance.address, this.spec.readiness, { deadline: performance.now() + 2_000 });
        if (!probe.ready) continue;
        const slot = new Slot(instance.index, instance, hash);
        slot.readyAtMs = performance.now();
        this.slots.push(slot);
      } else {
        this.parked.push(instance);
      }
    }
    this.rebuildReady();
    if (this.state === 'running' || this.state === 'starting' || this.state === 'stopping') return;
    if (this.ready.length > 0) this.fire('outsideStart');
    else if (this.parked.some((i) => i.state === 'paused') && this.state === 'stopped') this.fire('outsidePause');
  }

  /**
   * Takes a new spec. Routes, timeouts and the like apply at once; a change to
   * the containers themselves replaces running instances without downtime (see
   * rollout.ts), and a stopped app simply starts on the new spec next time.
   * Rejects when the new revision could not become ready and was rolled back.
   */
  update(spec: AppSpec): Promise<void> {
    // Every reconcile (an apply of any app) brings every spec again: a revision
    // already rolled back is not retried each time. Its other settings apply;
    // the instances stay on the revision that works.
    if (this.rejectedHash !== undefined && containerSpecHash(spec) === this.rejectedHash) spec = withContainerOf(spec, this.spec);
    const reshaped = containerSpecHash(spec) !== containerSpecHash(this.spec);
    const old = this.spec;
    this.spec = spec;
    if (spec.balance !== old.balance) this.balancer = createBalancerPolicy(spec.balance, spec.name);
    if (spec.scale.replicas !== old.scale.replicas) this.replicas = spec.scale.replicas;
    this.replicas = Math.min(Math.max(this.replicas, Math.max(spec.scale.min, 1)), spec.scale.max);
    this.armIdle();
    this.armHealth();
    if (!reshaped) return this.state === 'running' ? this.serial(() => this.rescale()) : Promise.resolve();
    this.rejectedHash = undefined;
    if (this.state === 'crashloop' || this.state === 'failed') this.backoff.reset();
    return this.serial(async () => {
      if (this.state === 'paused') await this.stopAll('replaced while paused');
      // Containers of the old spec are useless now; the next start makes new ones.
      this.parked = this.parked.filter((i) => i.specHash === containerSpecHash(spec));
      if (this.state !== 'running') return;
      this.deps.logger.info({ app: this.name, strategy: spec.strategy.type }, 'spec changed: replacing instances');
      const result = await replaceInstances(
        {
          runtime: this.deps.runtime,
          logger: this.deps.logger,
          current: () => this.slots,
          setSlots: (slots) => {
            this.slots = slots;
            this.rebuildReady();
          },
          drainMs: DRAIN_MS,
        },
        spec,
        old,
        this.replicas,
      );
      if (!result.ok) {
        // Rolled back: replacements of lost instances, and the next start, use the revision that works.
        if (this.spec === spec) this.spec = withContainerOf(spec, old);
        this.rejectedHash = containerSpecHash(spec);
        this.lastError = `update rolled back: ${result.reason}`;
        this.onChange();
        throw new BerthError('upstream_unavailable', this.lastError);
      }
    });
  }

  /** Sets how many instances run while the app is up, within scale.min..max; scaling down drains first. */
  setReplicas(count: number): Promise<void> {
    const { min, max } = this.spec.scale;
    if (!Number.isInteger(count) || count < Math.max(min, 1) || count > max) {
      return Promise.reject(new BerthError('spec_invalid', `replicas for ${this.name} must be from ${Math.max(min, 1)} to ${max} (scale.min..scale.max), not ${count}`));
    }
    this.replicas = count;
    this.onChange();
    return this.state === 'running' ? this.serial(() => this.rescale()) : Promise.resolve();
  }

  private async rescale(): Promise<void> {
    const live = this.slots.filter((s) => !s.draining);
    if (live.length < this.replicas) return this.fillReplicas();
    const extra = live.sort((a, b) => b.index - a.index).slice(0, live.length - this.replicas);
    await Promise.all(extra.map((slot) => this.retire(slot, 'scaled down')));
  }

  /** Takes one instance out of rotation, lets its requests finish, then stops and removes its container. */
  private async retire(slot: Slot, why: string): Promise<void> {
    slot.draining = true;
    this.rebuildReady();
    await drainSlot(slot, DRAIN_MS);
    this.slots = this.slots.filter((s) => s !== slot);
    this.rebuildReady();
    await this.deps.runtime.remove(slot.instance.id).catch((err: unknown) => this.deps.logger.warn({ app: this.name, err: messageOf(err) }, 'remove failed'));
    this.deps.logger.info({ app: this.name, instance: slot.instance.name, why }, 'instance retired');
  }

  /** Stops every instance after requests in flight finish (bounded by `graceMs`); containers are kept. */
  stop(why: string, graceMs = DRAIN_MS): Promise<void> {
    return this.serial(async () => {
      if (this.slots.length === 0 && this.state !== 'paused') {
        if (this.state !== 'stopped' && this.state !== 'failed' && this.state !== 'crashloop') this.fire('stopped', why);
        return;
      }
      this.fire('stop', why);
      for (const slot of this.slots) slot.draining = true;
      this.rebuildReady();
      await this.idle.drained(graceMs);
      await this.stopAll(why);
    });
  }

  /** Stops all containers (paused ones too) and parks them. */
  private async stopAll(why: string): Promise<void> {
    const instances = [...this.slots.map((s) => s.instance), ...this.parked];
    this.slots = [];
    this.rebuildReady();
    await Promise.all(instances.map((i) => this.deps.runtime.stop(i.id, { timeoutS: 10 }).catch((err: unknown) => this.deps.logger.warn({ app: this.name, err: messageOf(err) }, 'stop failed'))));
    this.parked = instances.map((i) => ({ ...i, state: 'exited' as const, address: undefined }));
    this.backoff.reset();
    this.fire('stopped', why);
    this.deps.logger.info({ app: this.name, why }, 'app stopped');
  }

  /** Removes the containers now (volume kept unless purged); the next request creates them again. */
  remove(purgeVolumes = false): Promise<void> {
    return this.serial(async () => {
      const instances = [...this.slots.map((s) => s.instance), ...this.parked];
      this.slots = [];
      this.parked = [];
      this.rebuildReady();
      clearTimeout(this.removeTimer);
      this.health.stop();
      this.releaseDeps();
      for (const i of instances) await this.deps.runtime.remove(i.id, { purgeVolumes });
      this.fire('removed');
    });
  }

  /** The idle clock ran out: stop or pause, unless activity came in meanwhile. */
  private onIdle(): void {
    if (this.state !== 'running' || this.spec.scale.min > 0) return;
    void this.serial(async () => {
      // Checked inside the step: a request may have arrived since the timer fired.
      if (this.idle.inFlight > 0 || this.state !== 'running') return;
      if (this.spec.idleAction === 'pause') return this.pauseAll();
      this.fire('stop', 'idle');
      await this.stopAll('idle');
    });
  }

  private async pauseAll(): Promise<void> {
    const slots = this.slots;
    this.slots = [];
    this.rebuildReady();
    this.fire('stop', 'idle');
    try {
      await Promise.all(slots.map((s) => this.deps.runtime.pause(s.instance.id)));
      this.parked = [...slots.map((s) => ({ ...s.instance, state: 'paused' as const })), ...this.parked];
      this.fire('paused', 'idle');
      this.deps.logger.info({ app: this.name }, 'app paused after being idle');
    } catch (err) {
      this.deps.logger.warn({ app: this.name, err: messageOf(err) }, 'pause failed; stopping instead');
      this.slots = slots;
      await this.stopAll('idle (pause failed)');
    }
  }

  private armIdle(): void {
    const idleMs = this.spec.idleTimeoutMs ?? this.deps.defaults().idleTimeoutMs;
    if (this.state === 'running' && this.spec.scale.min === 0) this.idle.arm(idleMs);
    else this.idle.disarm();
  }

  private armHealth(): void {
    if (this.state === 'running' && this.spec.health) this.health.start(this.spec.health, () => this.slots);
    else this.health.stop();
  }

  private armRemoval(): void {
    clearTimeout(this.removeTimer);
    const after = this.spec.removeAfterMs;
    if (after === undefined || this.closed) return;
    this.removeTimer = setTimeout(() => {
      if (this.state === 'stopped' && this.parked.length > 0) {
        this.deps.logger.info({ app: this.name }, 'removing the containers of a long-stopped app (volume kept)');
        void this.remove().catch((err: unknown) => this.deps.logger.warn({ app: this.name, err: messageOf(err) }, 'remove failed'));
      }
    }, after);
    this.removeTimer.unref();
  }

  /**
   * An instance out of rotation (failed health checks, or connection failures)
   * is restarted in place and rejoins once ready; the others keep serving.
   */
  private async recover(slot: Slot, why: string): Promise<void> {
    if (slot.unhealthy || !this.slots.includes(slot)) return;
    slot.unhealthy = true;
    this.rebuildReady();
    this.deps.logger.warn({ app: this.name, instance: slot.instance.name, why }, 'instance out of rotation; restarting it');
    try {
      await this.deps.runtime.stop(slot.instance.id, { timeoutS: 5 });
      const fresh = await startSlot(this.deps.runtime, this.spec, slot.index, performance.now() + this.spec.startTimeoutMs, slot.instance);
      if (!this.slots.includes(slot)) return;
      this.slots = this.slots.map((s) => (s === slot ? fresh : s));
      this.rebuildReady();
      this.deps.logger.info({ app: this.name, instance: fresh.instance.name }, 'instance back in rotation');
    } catch (err) {
      this.deps.logger.warn({ app: this.name, instance: slot.instance.name, err: messageOf(err) }, 'instance restart failed');
      this.dropSlot(slot);
    }
  }

  /** Forgets a slot whose container is gone; the app stops when it was the last one. */
  private dropSlot(slot: Slot): void {
    this.slots = this.slots.filter((s) => s !== slot);
    this.rebuildReady();
    if (this.slots.length === 0 && this.state === 'running') {
      this.fire('lastExited');
    } else if (this.state === 'running') {
      void this.fillReplicas();
    }
  }

  /**
   * The engine reports an instance gone: a crash, an app that quits when idle
   * (like seed 000's minions), or someone's `docker stop`. The instance leaves
   * the rotation; when it was the last, the app becomes stopped and the next
   * request wakes it. Dying soon after a start counts towards a crash loop.
   * Returns whether the exit was unexpected (not one berth caused).
   */
  instanceExited(instanceId: string, exitCode: number | undefined, at?: Date): boolean {
    const slot = this.slots.find((s) => s.instance.id === instanceId);
    if (!slot || slot.draining || this.state !== 'running') return false;
    // A late event about the container's previous run (it was started again since) is stale.
    const startedAt = slot.instance.startedAt?.getTime();
    if (at && startedAt !== undefined && at.getTime() < startedAt) return false;
    const early = performance.now() - slot.readyAtMs < EARLY_EXIT_MS;
    const crashed = exitCode !== 0 && exitCode !== undefined;
    if (crashed) this.lastError = `the container exited with code ${exitCode}`;
    this.slots = this.slots.filter((s) => s !== slot);
    this.parked.push({ ...slot.instance, state: 'exited', address: undefined });
    this.rebuildReady();
    this.deps.logger.info({ app: this.name, instance: slot.instance.name, exitCode }, 'instance exited by itself');
    if (this.slots.length > 0) {
      void this.serial(() => this.fillReplicas());
      return true;
    }
    if (crashed && early && this.backoff.fail(performance.now()) > 0) {
      this.fire('lastCrashed');
    } else {
      if (!early) this.backoff.reset();
      this.fire('lastExited');
    }
    return true;
  }

  /**
   * The proxy could not reach `instanceId` (refused, or closed before any
   * answer). An app that quits by itself (seed 000) races the engine's die
   * event, so the engine is asked, for a short while, whether the instance is
   * gone. A live instance that keeps failing is ejected (passive health).
   */
  async unreachable(instanceId: string): Promise<boolean> {
    const deadline = performance.now() + UNREACHABLE_CHECK_MS;
    for (;;) {
      const slot = this.slots.find((s) => s.instance.id === instanceId);
      // Already handled: the die event came, or the instance was replaced or stopped.
      if (!slot || this.state !== 'running') return true;
      const now = await this.deps.runtime.inspect(instanceId).catch(() => undefined);
      if (!this.slots.includes(slot)) return true;
      if (!now || now.state === 'exited' || now.state === 'dead') {
        this.instanceExited(instanceId, now?.exitCode);
        return true;
      }
      if (performance.now() >= deadline) {
        if (slot.upstream.failures >= PASSIVE_EJECT_AFTER) void this.recover(slot, `${slot.upstream.failures} connection failures in a row`);
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /**
   * The engine reports a container of this app started, and berth did not start
   * it (`docker start` by hand, another process): while the app is down it is
   * adopted, shows `running`, and berth's idle policy applies to it.
   */
  instanceStarted(instanceId: string): Promise<void> {
    if (!isDown(this.state) || this.closed) return Promise.resolve();
    return this.serial(async () => {
      if (!isDown(this.state) || this.closed) return;
      const now = await this.deps.runtime.inspect(instanceId).catch(() => undefined);
      if (!now || now.state !== 'running') return;
      this.deps.logger.info({ app: this.name, instance: now.name }, 'container started outside berth: adopted');
      this.idle.touch();
      await this.adopt([now]);
    });
  }

  /** The engine reports a container removed (by berth or behind its back): it is forgotten. */
  instanceRemoved(instanceId: string): void {
    this.parked = this.parked.filter((i) => i.id !== instanceId);
  }

  /** Records a failure found outside a start, e.g. a name conflict at reconcile time. */
  fail(reason: string): void {
    this.lastError = reason;
    this.fire('reconcileFailed');
  }

  /** Milliseconds before a start may be tried again (0: now). */
  retryDelayMs(): number {
    return this.gate.retryDelayMs();
  }

  /** Activity that keeps the app up: a request, a WebSocket, or a dependent app holding it. */
  began(): void {
    this.idle.began();
  }

  ended(): void {
    this.idle.ended();
  }

  /**
   * Stops all work. With `why` (a delete), a start in progress is cancelled
   * and its waiters told `why` at once: a DELETE must not wait out a start.
   */
  close(why?: string): void {
    // At shutdown a start in progress may finish (its waiters are served); a delete cancels it.
    if (why) {
      this.closedWhy = why;
      this.startAbort?.abort();
    }
    this.closed = true;
    this.gate.close();
    this.idle.disarm();
    this.health.stop();
    clearTimeout(this.removeTimer);
  }

  private releaseDeps(): void {
    const release = this.releaseDependencies;
    this.releaseDependencies = undefined;
    release?.();
  }

  private onChange(): void {
    this.deps.onChange(this.status());
  }

  /**
   * Moves the app by the state machine (lifecycle.ts) and runs the actions it
   * names. An illegal event is logged and changes nothing: it means a race the
   * table does not foresee, and keeping the last true state beats inventing one.
   * `reason`: why, when berth chose it (shown in the status; `idle…` marks an idle stop).
   */
  private fire(event: LifecycleEvent, reason?: string): void {
    const result = transition(this.state, event);
    if (isIllegal(result)) {
      this.deps.logger.warn({ app: this.name, event, state: this.state }, result.illegal);
      return;
    }
    if (result.next !== this.state) {
      this.state = result.next;
      this.reason = reason;
      this.since = new Date();
      if (result.next !== 'running') this.idle.disarm();
      this.onChange();
    }
    for (const action of result.actions) this.act(action);
  }

  private act(action: LifecycleAction): void {
    switch (action) {
      case 'armIdle':
        return this.armIdle();
      case 'armHealth':
        return this.armHealth();
      case 'stopHealth':
        return this.health.stop();
      case 'releaseDeps':
        return this.releaseDeps();
      case 'armRemoval':
        return this.armRemoval();
      case 'fillReplicas':
        return void this.fillReplicas();
      case 'stopContainers':
        return this.stopLeftovers();
    }
  }

  /** A failed start may leave its container running (never ready): it must not stay up. */
  private stopLeftovers(): void {
    const left = this.startingInstance;
    this.startingInstance = undefined;
    if (!left) return;
    void this.deps.runtime.stop(left.id, { timeoutS: 5 }).catch((err: unknown) => this.deps.logger.warn({ app: this.name, err: messageOf(err) }, 'stop failed'));
    this.parked = [...this.parked.filter((i) => i.id !== left.id), { ...left, state: 'exited', address: undefined }];
  }

  /** What the controller believes about its containers, for the periodic resync (resync-plan.ts) to check against the engine. */
  believed(): BelievedApp {
    return {
      name: this.name,
      state: this.state,
      containerHash: containerSpecHash(this.spec),
      slots: this.slots.map((s) => ({ id: s.instance.id, busy: s.draining || s.unhealthy })),
      parked: this.parked.map((i) => ({ id: i.id, state: i.state })),
    };
  }
}

function isDown(state: AppState): boolean {
  return state === 'stopped' || state === 'failed' || state === 'crashloop' || state === 'paused';
}

/** Policies that look at the request get this when a caller has none (e.g. an API start). */
const NO_REQUEST = { headers: {} } as IncomingMessage;
