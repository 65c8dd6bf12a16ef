import type { IncomingMessage } from 'node:http';
import { BerthError, ClientClosedError, EngineUnavailableError, lastOutputOf, messageOf, NoRouteError } from '../errors.js';
import type { Admission, Admitted, Upstream } from '../proxy/upstream.js';
import { containerExited, type Instance, type Runtime } from '../runtime/runtime.js';
import { containerSpecHash, specHash, withContainerOf } from '../spec/hash.js';
import type { AppSpec } from '../spec/types.js';
import type { AppControllerDeps } from './app-controller-deps.js';
import { APP_DOWN, isDown, type AppState, type AppStatus } from './app-status.js';
import { AdmissionGate } from './admission.js';
import { adoptedExit, lastEnded } from './adopted-exit.js';
import { crashLoopReason, type CrashBackoff } from './crash-backoff.js';
import { AppTimers } from './app-timers.js';
import { DependencyHold } from './dependency-hold.js';
import { HealthChecker } from './health-checker.js';
import { CHANGED_OUTSIDE, ROUTE_LOST, routeLost } from './published-route.js';
import { endedReason, outOfMemoryError, SignalBook } from './ended-reason.js';
import { ForeignContainers } from './foreign-container.js';
import { exitDecision } from './instance-failure.js';
import { IdleStop } from './idle-stop.js';
import { InstanceRecovery } from './instance-recovery.js';
import { LeftoverStops } from './leftover-stops.js';
import { InstanceSet } from './instance-set.js';
import { LaunchRefusalMemo, launchRefusal } from './launch-policy.js';
import { unlessLeft } from './leave-queue.js';
import { isIllegal, transition, type LifecycleAction, type LifecycleEvent } from './lifecycle.js';
import { failureKeeping, failureOwner, type FailureOwner } from './kept-failure.js';
import { isLeaderStopExit, rolloutRetirement } from './leader-stop.js';
import type { StoredFailure } from '../store/store.js';
import { Slot, startSlot, thawSlot } from './instance-slot.js';
import { waitUntilReady } from './readiness.js';
import { RejectedRevision } from './rejected-revision.js';
import { replaceInstances } from './rollout.js';
import { pauseInstances, retireInstance, stopInstances, type StopContext } from './stop-instances.js';
import type { HeldStartSlot } from './start-budget.js';
import { NoInstanceError, StartCalledOffError, StartFailedError, StartSlotsBusyError } from './start-errors.js';
import type { BelievedApp } from './resync-plan.js';
import { UnreachableChecks } from './unreachable-check.js';
import { afterFailedThaw, wakePlan } from './wake-plan.js';
import { ReplicaFill } from './replica-fill.js';
import { replicaRangeProblem, replicasAfterUpdate } from './replica-range.js';

export { StartFailedError } from './start-errors.js';
export type { AppControllerDeps, AppDefaults, AppLease, LeaderStopped } from './app-controller-deps.js';
export { APP_DOWN } from './app-status.js';
export { foreignRunning } from './foreign-container.js';
export { isLeaderStopExit, rolloutRetirement } from './leader-stop.js';

/** How long old instances may finish their requests after an update, a scale-down or a stop. */
const DRAIN_MS = 30_000;
/** Restarts in a row a waiter of a start waits through (each calling off the start before it) before it is told so. */
const MAX_RESTARTS_WAITED = 3;

/**
 * One app's façade: the proxy, the API and the engine's events talk to it,
 * and it moves the app by the state machine (lifecycle.ts), delegating each
 * operation to the part that owns it: the instance set (slots, balancing),
 * admission (queue bound, crash-loop backoff, engine outage), the timers
 * (idle stop or pause, removal), instance failure and restart, and the
 * dependency hold. Lifecycle steps run one at a time through `serial`, so a
 * request that arrives while the app is being stopped waits for the stop,
 * then wakes it; a start is single-flight however many requests want it.
 */
export class AppController {
  spec: AppSpec;
  private state: AppState = 'stopped';
  private since = new Date();
  /** `since` on the monotonic clock, for the decisions that measure time in the state (see failedWithin). */
  private sinceMs = performance.now();
  private lastError?: string;
  /** lastError as the app's clients may read it, with the lastError it stands for (any other lastError is told as a bare failure). */
  private publicError?: { of: string; text: string };
  /** See AppStatus.lastOutput; it goes with lastError (set with it by a failed start, cleared with it by any other). */
  private lastOutput?: string;
  private lastStartMs?: number;
  /** Why the app is in `state`: berth's choice or what happened to it (see AppStatus.reason). */
  private reason?: string;
  private readonly instances: InstanceSet;
  private replicas: number;
  /** The spec this gateway's instances were made from, while it follows a rollout the leader makes (see update). */
  private followedFrom?: AppSpec;
  private starting?: Promise<void>;
  private lifecycle: Promise<unknown> = Promise.resolve();
  private readonly gate: AdmissionGate;
  private readonly timers: AppTimers;
  private readonly health: HealthChecker;
  private readonly unreachableChecks: UnreachableChecks;
  private readonly replicaFill: ReplicaFill;
  private readonly recovery: InstanceRecovery;
  private readonly idleStop: IdleStop;
  private readonly dependencies: DependencyHold;
  private readonly rejected = new RejectedRevision();
  /** Refuses the forged containers found (foreign-container.ts). */
  private readonly foreign: ForeignContainers;
  private closed = false;
  /** The container the current start launched, until it is ready: a failed start stops it. */
  private startingInstance?: Instance;
  /** Cancels the start in progress when the app is deleted or the gateway shuts down. */
  private startAbort?: AbortController;
  private closedWhy = 'the gateway is shutting down';
  /** Closed by a delete (close with a reason), not by the gateway's shutdown. */
  private deleted = false;

  /**
   * What a waiter of a start the close cut short is told. A deleted app is not there: 404, as a request
   * arriving after the delete gets, where a 502 "failed to start" read as the app's failure or the gateway's.
   */
  private closedError(): BerthError {
    return this.deleted ? new NoRouteError(`${this.closedWhy} while this request waited for it to start`) : new StartFailedError(this.name, this.closedWhy, false);
  }
  /** Why a stop called off the start in progress, and whether a restart's start follows (set until that start has ended). */
  private startCancelled?: { why: string; restartFollows: boolean };
  /** Stops what runs of the app without serving, and tries a stop the engine did not carry out again (leftover-stops.ts). */
  private readonly leftovers: LeftoverStops;
  /** Whether the store keeps a failure of this app now (see keepFailure). */
  private failureKept = false;
  /**
   * lastError while it tells a failure of the gateway's surroundings (the engine down, start slots
   * busy, the store unreachable: failureOwner), which the store does not keep; any other lastError
   * set since is the app's own.
   */
  private surroundingsError?: string;

  constructor(
    spec: AppSpec,
    private readonly deps: AppControllerDeps,
  ) {
    this.spec = spec;
    this.replicas = spec.scale.replicas;
    this.instances = new InstanceSet(spec.balance, spec.name, deps.onReadyChange && (() => deps.onReadyChange!(this.spec.name)));
    this.timers = new AppTimers(() => this.idleStop.onIdle());
    this.dependencies = new DependencyHold(deps.wakeDependencies);
    // The probe dials a new connection each time: a kept-alive one can answer while new ones hang.
    this.gate = new AdmissionGate(() => deps.runtime.probe(), undefined, () => deps.engineBack?.());
    this.health = new HealthChecker({ logger: deps.logger, onUnhealthy: (slot, reason) => void this.recover(slot, `failed its health checks (${reason})`) });
    this.leftovers = new LeftoverStops({
      app: spec.name,
      runtime: deps.runtime,
      logger: deps.logger,
      instances: this.instances,
      timers: this.timers,
      schedule: deps.stopRetry,
      serial: (step) => this.serial(step),
      down: () => isDown(this.state) && this.state !== 'paused' && !this.closed,
      idleTimeoutMs: () => this.spec.idleTimeoutMs ?? this.deps.defaults().idleTimeoutMs,
      lastError: () => this.lastError,
      showError: (text, { clearOutput, tell }) => {
        this.lastError = text;
        if (clearOutput) this.lastOutput = undefined;
        if (tell) this.onChange();
      },
    });
    this.idleStop = new IdleStop({
      app: spec.name,
      logger: deps.logger,
      idle: this.timers.idle,
      slots: deps.idleStopSlots,
      quiesce: deps.quiesce,
      running: () => this.state === 'running',
      scalesToZero: () => this.spec.scale.min === 0,
      closed: () => this.closed,
      acts: () => this.acts(),
      serial: (step) => this.serial(step),
      leased: (waitMs, work) => this.leased(waitMs, work),
      fire: (event, reason) => this.fire(event, reason),
      pauses: () => this.spec.idleAction === 'pause' && Boolean(this.deps.runtime.unpause),
      pause: () => pauseInstances(this.stopContext),
      stopAll: (why) => this.stopAll(why),
    });
    this.recovery = new InstanceRecovery({
      app: spec.name,
      runtime: deps.runtime,
      logger: deps.logger,
      instances: this.instances,
      spec: () => this.spec,
      acts: () => this.acts(),
      requireLaunchable: (s) => this.requireLaunchable(s),
      serial: (step) => this.serial(step),
      mayStopStray: () => this.state !== 'starting' && !this.closed,
      dropSlot: (slot, why) => this.dropSlot(slot, why),
    });
    this.foreign = new ForeignContainers(spec.name, deps.runtime, deps.logger, () => this.acts());
    this.replicaFill = new ReplicaFill({
      app: spec.name,
      runtime: deps.runtime,
      logger: deps.logger,
      instances: this.instances,
      spec: () => this.spec,
      replicas: () => this.replicas,
      running: () => this.state === 'running',
      acts: () => this.acts(),
      wake: (s, index, deadline, existing, onStarted) => this.wake(s, index, deadline, existing, onStarted),
    });
    this.unreachableChecks = new UnreachableChecks({
      runtime: deps.runtime,
      instances: this.instances,
      running: () => this.state === 'running',
      exited: (id, exitCode, engineError) => void this.instanceExited(id, exitCode, undefined, engineError),
      recover: (slot, why) => void this.recover(slot, why),
    });
  }

  get name(): string {
    return this.spec.name;
  }

  private acts(): boolean {
    return this.deps.acts?.() ?? true;
  }

  /** `work` under the app's lease across gateways, when there are several. */
  private leased<T>(waitMs: number, work: (letGo?: () => void) => Promise<T>): Promise<T> {
    return this.deps.lease ? this.deps.lease(this.name, waitMs, work) : work();
  }

  get currentState(): AppState {
    return this.state;
  }

  get inFlight(): number {
    return this.timers.idle.inFlight;
  }

  /** Containers the controller knows: running, draining, stopped or paused. */
  get containerCount(): number {
    return this.instances.size;
  }

  /** The first ready instance, for callers that need any one (kept for the fast path's tests). */
  get upstream(): Upstream | undefined {
    return this.instances.anyUpstream;
  }

  /** The upstreams in rotation now (what proxy workers are told). */
  get readyUpstreams(): Upstream[] {
    return this.instances.readyUpstreams;
  }

  /**
   * lastError as anyone who reaches the app's host may read it (the 502, the waiting page,
   * /_berth/status): what the app did, never the engine's words or the gateway's paths;
   * the full text stays on the admin API.
   */
  publicLastError(): string | undefined {
    if (this.lastError === undefined) return undefined;
    return this.publicError?.of === this.lastError ? this.publicError.text : `app ${this.name} failed to start`;
  }

  /** Tells the WebSockets this gateway's proxy holds on the app's instances to go away (another gateway stops them). */
  tunnelsGoAway(): void {
    this.instances.tunnelsGoAway();
  }

  /** The instances draining (a stop, a scale-down, an update): what proxy workers are told, so their WebSockets go away. */
  get drainingIds(): string[] {
    return this.instances.drainingIds;
  }

  /** Every running instance's upstream, draining ones too (whose in-flight counts proxy workers report). */
  get slotUpstreams(): Upstream[] {
    return this.instances.slots.map((s) => s.upstream);
  }

  private get backoff(): CrashBackoff {
    return this.gate.backoff;
  }

  private get stopContext(): StopContext {
    return {
      app: this.name,
      runtime: this.deps.runtime,
      logger: this.deps.logger,
      instances: this.instances,
      quiesce: this.deps.quiesce && (() => this.barrier()),
      stopFailed: (instance, err) => this.leftovers.stopFailed(instance, err),
    };
  }

  /** Whether the policy in force refuses this app's spec, worked out once per spec and policy. */
  private readonly policyRefusal = new LaunchRefusalMemo();

  /**
   * After the gateway's policy changed (a reload): an app it now refuses, or no longer refuses, is told
   * as a state change, so the event stream and the dashboard show it without waiting for a start.
   */
  policyChanged(): void {
    const before = this.policyRefusal.last;
    if (this.policyRefusal.of(this.spec, this.deps.defaults().policy) !== before) this.onChange();
  }

  status(): AppStatus {
    const retryMs = this.state === 'crashloop' ? this.backoff.waitMs(performance.now()) : 0;
    const policyRefused = this.policyRefusal.of(this.spec, this.deps.defaults().policy);
    const first = this.instances.shown;
    const idle = this.timers.idle;
    return {
      name: this.name,
      state: this.state,
      since: this.since,
      lastActivity: idle.lastActivity,
      idleAt: this.state === 'running' && this.spec.scale.min === 0 ? idle.idleAt : undefined,
      idleTimeoutMs: this.spec.scale.min === 0 ? (this.spec.idleTimeoutMs ?? this.deps.defaults().idleTimeoutMs) : undefined,
      retryAt: retryMs > 0 ? new Date(Date.now() + retryMs) : undefined,
      reason: this.reason,
      lastError: this.lastError,
      ...(this.lastOutput !== undefined && this.lastError !== undefined ? { lastOutput: this.lastOutput } : {}),
      ...(policyRefused !== undefined ? { policyRefused } : {}),
      lastStartMs: this.lastStartMs,
      inFlight: idle.inFlight,
      waiting: this.gate.waiting,
      replicas: this.replicas,
      readyInstances: this.instances.readyCount,
      instance: first ? { id: first.id, address: first.address ? `${first.address.host}:${first.address.port}` : undefined } : undefined,
    };
  }

  /** Picks a ready instance with the app's balancer policy; undefined when none is ready. */
  pick(req?: IncomingMessage, exclude?: string): Upstream | undefined {
    return this.instances.pick(req, exclude);
  }

  /** A ready instance for `req` now (other than `exclude`), with its sticky cookie by value (a reused object); undefined when none is ready. */
  admitReady(req: IncomingMessage, exclude?: string): Admission | undefined {
    return this.instances.admitReady(req, exclude);
  }

  /**
   * A ready instance, starting the app first if needed. Concurrent callers
   * share one start; beyond the queue size they are refused at once, and while
   * the app is crash-looping they are told when to come back.
   */
  async acquire(req?: IncomingMessage): Promise<Upstream> {
    return (await this.acquireFor(req)).upstream;
  }

  /**
   * `acquire`, with the sticky cookie chosen for this request, by value.
   * `left`: aborted when the request's client goes; its place in the queue is
   * given back at once (a client must not hold places nobody waits in).
   */
  async acquireFor(req?: IncomingMessage, left?: AbortSignal): Promise<Admitted> {
    const now = this.instances.admitted(req);
    if (now) return now;
    if (left?.aborted) throw new ClientClosedError();
    const refused = this.gate.refusal(this.name, this.lastError, this.spec.queueSize ?? this.deps.defaults().queueSize, this.publicLastError()) ?? this.budgetRefusal();
    if (refused) throw refused;
    this.gate.waiting++;
    try {
      for (let restarts = 0; ; restarts++) {
        try {
          // Running with no instance in rotation (all unhealthy or being replaced): wait for one, bounded by the start timeout.
          if (this.state === 'running') await unlessLeft(this.instances.readySoon(this.spec.startTimeoutMs), left);
          else {
            this.starting ??= this.serial(() => this.start()).finally(() => (this.starting = undefined));
            await unlessLeft(this.starting, left);
          }
          break;
        } catch (err) {
          // A restart called the start off: its own start follows, and this waiter wants the app up as much
          // as the restart does (a request held for a cold start got 502 when an operator restarted the app,
          // and of two restarts at once the first answered 502). Bounded, so restarts in a loop end it.
          if (!(err instanceof StartCalledOffError && err.restartFollows) || this.closed || restarts >= MAX_RESTARTS_WAITED) throw err;
          if (this.instances.admitted(req)) break;
        }
      }
    } finally {
      this.gate.waiting--;
    }
    const admitted = this.instances.admitted(req);
    if (!admitted) throw new NoInstanceError(this.name);
    return admitted;
  }

  /** Why this app, down and not starting, may not start now that the gateway runs as many apps as it may. */
  budgetRefusal(): BerthError | undefined {
    if (this.starting || !APP_DOWN.has(this.state)) return undefined;
    return this.deps.startBudget?.refusal(this.name);
  }

  /** Runs lifecycle steps one after another, whatever the outcome of the previous one. */
  private serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.lifecycle.then(step);
    this.lifecycle = run.catch(() => undefined);
    return run;
  }

  /** Starts the first instance and returns once it is ready; the other replicas follow in the background. */
  private async start(): Promise<void> {
    if (this.instances.readyCount > 0 && this.state === 'running') return;
    if (this.closed) throw this.closedError();
    const abort = (this.startAbort = new AbortController());
    this.startCancelled = undefined;
    const began = performance.now();
    const spec = this.spec;
    this.timers.cancelRemoval();
    this.leftovers.cancel();
    this.startingInstance = undefined;
    this.fire('wake');
    try {
      this.requireLaunchable(spec);
      await this.dependencies.take(spec);
      const { index, existing } = this.instances.firstIndex(containerSpecHash(spec));
      // Under the lease, another gateway's start of the same app makes its container first; this one then finds it
      // running. Once it runs, the slot's hold of the wait for readiness is bounded (start-slot-hold.ts), and the
      // lease is let go: it is there for the engine calls that make the one container, and a later starter at
      // another gateway only waits for readiness, as this one does. Held through that wait (up to the start
      // timeout), a few never-ready apps held every lease connection of the gateway, and every other app's cold
      // start waited its whole start timeout for one; a starter of the same app elsewhere held its start slot as long.
      // A container removed after that is not made anew outside the lease (see startSlot's mayRemake).
      let leaseLetGo = false;
      const wakeUp = (held?: HeldStartSlot) =>
        this.leased(spec.startTimeoutMs, (letGo) =>
          this.wake(
            spec,
            index,
            began + spec.startTimeoutMs,
            existing,
            (i) => {
              this.startingInstance = i;
              held?.readinessBegan();
              if (!letGo) return;
              leaseLetGo = true;
              letGo();
            },
            abort.signal,
            () => !leaseLetGo,
          ),
        );
      const budget = this.deps.startBudget;
      const slot = await (budget ? budget.run(this.name, began + spec.startTimeoutMs - performance.now(), wakeUp, abort.signal) : wakeUp());
      this.startingInstance = undefined;
      this.instances.forget((i) => i.index !== index);
      this.instances.add(slot);
      this.lastStartMs = Math.round(performance.now() - began);
      this.lastError = undefined;
      this.lastOutput = undefined;
      // The idle timeout counts from readiness, not from a request that ended while it started.
      this.timers.idle.touch();
      // Ready before a stop's call-off was noticed: it serves, and the stop queued behind stops it.
      this.startCancelled = undefined;
      this.fire('ready');
    } catch (err) {
      throw this.startFailed(err);
    }
  }

  /** Throws when the gateway's policy in force now refuses `spec` (launch-policy.ts). */
  private requireLaunchable(spec: AppSpec): void {
    const refusal = launchRefusal(spec, this.deps.defaults().policy);
    if (refusal) throw new Error(refusal);
  }

  /**
   * Brings one container up as a ready slot: the parked one given, or a new
   * one. A container berth paused while it served is only thawed (one engine
   * call, no inspect, no probe: wake-plan.ts); when the engine says it is gone
   * or no longer paused, it is started the full way, as any cold start is.
   */
  private async wake(spec: AppSpec, index: number, deadline: number, existing?: Instance, onStarted?: (running: Instance) => void, signal?: AbortSignal, mayRemake?: () => boolean): Promise<Slot> {
    // Replica fills come here without start(): they are checked as a cold start is.
    this.requireLaunchable(spec);
    const runtime = this.deps.runtime;
    const unpause = runtime.unpause?.bind(runtime);
    const thawable = existing !== undefined && this.instances.takeThawable(existing.id);
    if (wakePlan({ existing, thawable, canUnpause: unpause !== undefined }) === 'unpause-only' && existing && unpause) {
      try {
        return await thawSlot(unpause, spec, existing);
      } catch (err) {
        if (afterFailedThaw(err) === 'fail') throw err;
        this.deps.logger.info({ app: this.name, instance: existing.name, err: messageOf(err) }, 'the paused container changed behind berth’s back; starting it the full way');
      }
    }
    return startSlot(runtime, spec, index, deadline, existing, onStarted, signal, mayRemake);
  }

  /** Brings the instances up to the replica count in the background (replica-fill.ts). */
  private fillReplicas(): Promise<void> {
    return this.replicaFill.fill();
  }

  /** Every waiter gets the same answer: 502, or 504 on a timeout; repeated failures become a crash loop. */
  private startFailed(err: unknown): Error {
    if (err instanceof EngineUnavailableError) {
      // The engine's outage, not the app's: no crash-loop count, and waiters get 503 with Retry-After.
      this.lastError = this.surroundingsError = err.message;
      this.lastOutput = undefined;
      this.gate.engineDown(err.retryAfterS);
      this.fire('engineDown');
      this.deps.logger.warn({ app: this.name, err: err.message }, 'app could not start: the Docker engine is unavailable');
      return err;
    }
    const cancelled = this.startCancelled;
    this.startCancelled = undefined;
    if (cancelled !== undefined && !this.closed) {
      // Stopped mid-start (the API): no failure and no crash counted; the container it launched is
      // kept aside as running, for the stop that follows to stop.
      if (this.startingInstance) this.instances.park(this.startingInstance);
      this.startingInstance = undefined;
      this.fire('stopped', cancelled.why);
      this.deps.logger.info({ app: this.name, why: cancelled.why }, 'start called off');
      return new StartCalledOffError(this.name, cancelled.why, cancelled.restartFollows);
    }
    if (err instanceof StartSlotsBusyError) {
      // The gateway's load, not the app's: shown as why it failed, and no crash-loop count.
      this.lastError = this.surroundingsError = err.message;
      this.lastOutput = undefined;
      this.fire('startFailed', err.message);
      this.deps.logger.warn({ app: this.name, err: err.message }, 'app could not start: every start slot stayed busy');
      return err;
    }
    if (this.closed) {
      // Deleted (or shut down) mid-start: a clear answer for every waiter now, and no crash counted.
      this.fire('startFailed', this.closedWhy);
      return this.closedError();
    }
    // Anything but the start's own StartFailedError is the engine's or the gateway's (its endpoint, a host path, a
    // policy root): the app's clients are told only what the error vouches for as public.
    const failure = err instanceof StartFailedError ? err : new StartFailedError(this.name, messageOf(err), false, err instanceof BerthError ? (err.publicMessage ?? null) : null);
    // What the container said last is for operators only: the failure itself goes to the app's clients.
    this.lastError = failure.message;
    // The lease's store out of reach, say: told as why, not kept as the app's failure.
    if (failureOwner(err) === 'surroundings') this.surroundingsError = failure.message;
    this.publicError = { of: failure.message, text: failure.publicMessage ?? `app ${this.name} failed to start` };
    this.lastOutput = lastOutputOf(err);
    const delay = this.backoff.fail(performance.now());
    // lastError says why; the reason says how often, which is what makes it a loop.
    if (delay > 0) this.fire('crashLooped', crashLoopReason(this.backoff.count));
    else this.fire('startFailed');
    // A single failure may be a slow app that still comes up: its container is kept for the next start, for a while.
    if (this.startingInstance) this.leftovers.keepUnready(this.startingInstance);
    this.startingInstance = undefined;
    this.deps.logger.warn({ app: this.name, err: failure.message, lastOutput: this.lastOutput, retryInMs: delay || undefined }, 'app failed to start');
    return failure;
  }

  /** Takes over the app's containers found at gateway start: running ones serve at once, others are kept for the next start. */
  async adopt(found: readonly Instance[]): Promise<void> {
    const hash = containerSpecHash(this.spec);
    for (const instance of found) {
      if (instance.specHash !== hash || this.instances.slotOf(instance.id)) continue;
      if (await this.foreign.refused(instance, this.spec)) continue;
      this.instances.forget((i) => i.id !== instance.id);
      if (instance.state === 'running' && instance.address) {
        const probe = await waitUntilReady(instance.address, this.spec.readiness, { deadline: performance.now() + 2_000 });
        // Still starting (the last gateway was killed mid-start), or never ready: the next start takes it, for a while.
        if (!probe.ready) {
          this.leftovers.keepUnready(instance);
          continue;
        }
        const slot = new Slot(instance.index, instance, hash);
        slot.readyAtMs = performance.now();
        this.instances.setSlots([...this.instances.slots, slot]);
      } else {
        this.instances.park(instance);
      }
    }
    if (this.state === 'running' || this.state === 'starting' || this.state === 'stopping') return;
    if (this.instances.readyCount > 0) this.fire('outsideStart');
    else if (this.instances.parked.some((i) => i.state === 'paused') && this.state === 'stopped') this.fire('outsidePause');
    else if (this.state === 'stopped' && this.reason === undefined && this.lastError === undefined) await this.tellAdoptedExit(found);
    // More found running than the replica count (the last gateway was killed mid scale-down, or the count was lowered meanwhile).
    if (this.currentState === 'running' && this.acts() && this.instances.live.length > this.replicas) {
      void this.serial(() => this.rescale()).catch((err: unknown) => this.deps.logger.warn({ app: this.name, err: messageOf(err) }, 'scaling down failed'));
    }
  }

  /**
   * A stopped app whose containers were found exited: what the engine knows of the last one's end
   * (see adoptedExit), not a bare `stopped` that hides a crash from before this gateway. Only where
   * this controller has nothing of its own to tell, and for a container kept (of the app's spec).
   */
  private async tellAdoptedExit(found: readonly Instance[]): Promise<void> {
    const kept = found.filter((i) => this.instances.parked.some((p) => p.id === i.id));
    let last = lastEnded(kept.filter((i) => i.state === 'exited' || i.state === 'dead'));
    let told = last && adoptedExit(last);
    // A start the engine refused (an exec or mount failure) leaves its container `created` with the engine's
    // error, which a list does not read (list.ts reads never-started containers from the summary): asked here,
    // once per such container of a stopped app, at adoption only.
    for (const created of told ? [] : kept.filter((i) => i.state === 'created')) {
      const now = await this.deps.runtime.inspect(created.id).catch(() => undefined);
      if (now?.engineError) [last, told] = [now, adoptedExit(now)];
      if (told) break;
    }
    // A request may have started the app while the engine was asked.
    if (!last || !told || this.state !== 'stopped' || this.reason !== undefined || this.lastError !== undefined) return;
    this.reason = told.reason;
    // A kill for its memory is told as while the gateway runs: with the limit it went past.
    this.lastError = last.oomKilled && told.lastError ? this.outOfMemoryError(last.exitCode) : told.lastError;
    this.deps.logger.info({ app: this.name, instance: last.name, exitCode: last.exitCode, reason: told.reason }, 'adopted a stopped app: what the engine knows of its last end');
    this.onChange();
  }

  /**
   * Takes a new spec. Routes, timeouts and the like apply at once; a change to
   * the containers themselves replaces running instances without downtime (see
   * rollout.ts), and a stopped app simply starts on the new spec next time.
   * Rejects when the new revision could not become ready and was rolled back.
   */
  update(spec: AppSpec): Promise<void> {
    spec = this.rejected.filter(spec, this.spec);
    const reshaped = containerSpecHash(spec) !== containerSpecHash(this.spec);
    const old = this.spec;
    this.spec = spec;
    this.instances.setBalance(spec.balance);
    this.replicas = replicasAfterUpdate(this.replicas, spec.scale, old.scale.replicas, specHash(spec) !== specHash(old));
    this.armIdle();
    this.armHealth();
    if (!this.acts()) {
      // The leader rolls out; this gateway starts the new revision only when it wakes the app itself.
      if (reshaped) this.rejected.clear();
      // What the instances serving here were made from, should the leader die before its rollout is done.
      if (reshaped) this.followedFrom ??= old;
      return Promise.resolve();
    }
    // This gateway followed a rollout it left to the leader, and leads now (that leader was killed
    // mid-rollout): the reconcile hands it the spec it already took, while its instances are still
    // of the one before. They are replaced now, or the new revision is rolled back, not left half-done.
    const unfinished = this.followedFrom;
    this.followedFrom = undefined;
    // Looked at in turn, not now: a rollout under way (or rolled back meanwhile) decides what the instances are.
    if (!reshaped) return this.state === 'running' ? this.serial(() => (unfinished && this.behind() ? this.rollOut(this.spec, unfinished) : this.rescale())) : Promise.resolve();
    this.rejected.clear();
    if (this.state === 'crashloop' || this.state === 'failed') this.backoff.reset();
    return this.serial(() => this.rollOut(spec, unfinished ?? old));
  }

  /** Running, with instances of another spec than the app's own. */
  private behind(): boolean {
    const hash = containerSpecHash(this.spec);
    return this.state === 'running' && this.instances.live.some((slot) => slot.instance.specHash !== hash);
  }

  /** Replaces the running instances with ones of `spec` (a stopped app just starts on it next time); rolled back to `old` if they never get ready. */
  private async rollOut(spec: AppSpec, old: AppSpec): Promise<void> {
    if (this.state === 'paused') {
      // Shown as a stop (the frozen containers' exits are berth's doing, not theirs).
      this.fire('stop', 'replaced while paused');
      await this.stopAll('replaced while paused');
    }
    // Containers of the old spec are useless now; the next start makes new ones.
    const hash = containerSpecHash(spec);
    this.instances.forget((i) => i.specHash === hash);
    if (this.state !== 'running') return;
    this.deps.logger.info({ app: this.name, strategy: spec.strategy.type }, 'spec changed: replacing instances');
    const rollout = {
      runtime: this.deps.runtime,
      logger: this.deps.logger,
      current: () => this.instances.slots,
      setSlots: (slots: readonly Slot[]) => this.instances.setSlots(slots),
      drainMs: DRAIN_MS,
      quiesce: this.stopContext.quiesce,
      launchRefusal: (s: AppSpec) => launchRefusal(s, this.deps.defaults().policy),
    };
    const result = await this.replicaFill.duringRollout(() => replaceInstances(rollout, spec, old, this.replicas));
    if (!result.ok) {
      // Rolled back: replacements of lost instances, and the next start, use the revision that works.
      if (this.spec === spec) this.spec = withContainerOf(spec, old);
      this.rejected.reject(spec);
      this.lastError = `update rolled back: ${result.reason}`;
      this.lastOutput = undefined;
      this.onChange();
      throw new BerthError('upstream_unavailable', this.lastError);
    }
  }

  /** Sets how many instances run while the app is up, within scale.min..max; scaling down drains first. */
  setReplicas(count: number): Promise<void> {
    const outOfRange = replicaRangeProblem(this.name, count, this.spec.scale);
    if (outOfRange) return Promise.reject(new BerthError('spec_invalid', outOfRange));
    this.replicas = count;
    this.onChange();
    return this.state === 'running' ? this.serial(() => this.rescale()) : Promise.resolve();
  }

  private async rescale(): Promise<void> {
    const live = this.instances.live;
    if (live.length < this.replicas) return this.fillReplicas();
    const extra = live.sort((a, b) => b.index - a.index).slice(0, live.length - this.replicas);
    await Promise.all(extra.map((slot) => retireInstance(this.stopContext, slot, 'scaled down', DRAIN_MS)));
  }

  /**
   * Stops every instance after requests in flight finish (bounded by `graceMs`); containers are kept.
   * `restartFollows`: a restart's stop, with a start right behind it (see StartCalledOffError).
   */
  stop(why: string, graceMs = DRAIN_MS, restartFollows = false): Promise<void> {
    // A stop does not wait out a cold start (up to startTimeout): the start is called off, its waiters
    // told why at once, and what it launched is stopped by the step below, which runs right after it.
    if (this.state === 'starting' && this.startAbort && !this.startAbort.signal.aborted) {
      this.startCancelled = { why, restartFollows };
      this.startAbort.abort();
    }
    return this.serial(async () => {
      if (this.instances.slots.length === 0 && this.state !== 'paused') {
        // A failed start's container, kept for the next try, runs: a stop is a stop. So is a service
        // whose task moved and that the orchestrator is putting back (see exitedUnasked).
        await this.stopExitedUnasked(why);
        await this.leftovers.stopUnready(why);
        if (this.state === 'stopped') return;
        // A failed or crash-looping app stopped (the operator's answer to its failure, as `docker compose stop`
        // is): it shows stopped with why, past its failure (which the store forgets) and its backoff, so the
        // next request starts it at once. Only a stop the engine did not carry out is left to tell.
        if (this.state === 'failed' || this.state === 'crashloop') {
          this.backoff.reset();
          if (this.lastError !== this.leftovers.stopFailure) {
            this.lastError = this.leftovers.stopFailure;
            this.lastOutput = undefined;
          }
        }
        this.fire('stopped', why);
        return;
      }
      this.fire('stop', why);
      this.instances.drainAll();
      await this.barrier();
      await this.timers.idle.drained(graceMs);
      await this.stopAll(why);
    });
  }

  /**
   * The barrier (deps.quiesce) before instances taken out of rotation are stopped: a stop asked for, a
   * scale-down, a rollout. Several gateways: the fence reads the registry back, which fails while the store
   * is away; thrown, it left the instances out of rotation for good, the app serving nothing and showing
   * `stopping` with its containers up (or a replica draining for ever). The stop goes ahead without it,
   * as a start goes ahead without its lease. An idle stop asks the barrier itself: there a failure calls
   * the stop off, since whether the app is idle is not known.
   */
  private async barrier(): Promise<void> {
    try {
      await this.deps.quiesce?.(this.name);
    } catch (err) {
      this.deps.logger.warn({ app: this.name, err: messageOf(err) }, 'the barrier before a stop failed (the proxy workers or the other gateways were not heard); stopping without it');
    }
  }

  /** Stops all containers (paused ones too) and parks them. */
  private async stopAll(why: string): Promise<void> {
    await this.stopExitedUnasked(why);
    const killed = await stopInstances(this.stopContext);
    // A container the engine did not stop runs on: its stop is tried again (see LeftoverStops).
    this.leftovers.settle();
    this.backoff.reset();
    // Still the stop berth chose (`idle…` stays first), with what it came to.
    this.fire('stopped', killed ? `${why}; ${killed}` : why);
    this.deps.logger.info({ app: this.name, why }, 'app stopped');
  }

  /** Removes the containers now (volume kept unless purged); the next request creates them again. */
  remove(purgeVolumes = false): Promise<void> {
    return this.serial(async () => {
      const all = [...this.instances.takeSlots().map((s) => s.instance), ...this.instances.parked];
      this.instances.setParked([]);
      this.timers.cancelRemoval();
      this.health.stop();
      this.dependencies.release();
      for (const i of all) await this.deps.runtime.remove(i.id, { purgeVolumes });
      this.fire('removed');
    });
  }

  private armIdle(): void {
    const scalesToZero = this.state === 'running' && this.spec.scale.min === 0;
    this.timers.armIdle(scalesToZero ? (this.spec.idleTimeoutMs ?? this.deps.defaults().idleTimeoutMs) : undefined);
  }

  private armHealth(): void {
    if (this.state === 'running' && this.spec.health) this.health.start(this.spec.health, () => this.instances.slots);
    else this.health.stop();
  }

  private armRemoval(): void {
    this.timers.armRemoval(this.closed ? undefined : this.spec.removeAfterMs, () => {
      if (this.state !== 'stopped' || this.instances.parked.length === 0 || !this.acts()) return;
      this.deps.logger.info({ app: this.name }, 'removing the containers of a long-stopped app (volume kept)');
      void this.remove().catch((err: unknown) => this.deps.logger.warn({ app: this.name, err: messageOf(err) }, 'remove failed'));
    });
  }

  /** Takes an instance out of rotation and restarts it in place (instance-recovery.ts); says whether it serves again. */
  private recover(slot: Slot, why: string): Promise<boolean> {
    return this.recovery.recover(slot, why);
  }

  /** Forgets a slot whose container is gone; the app stops when it was the last one (`why` says what ended it). */
  private dropSlot(slot: Slot, why: string): void {
    this.instances.drop(slot);
    if (this.state !== 'running') return;
    if (this.instances.slots.length === 0) this.fire('lastExited', why);
    else void this.fillReplicas();
  }

  /**
   * The engine reports an instance gone: a crash, an app that quits when idle
   * (like seed 000's minions), or someone's `docker stop`. The instance leaves
   * the rotation; when it was the last, the app becomes stopped and the next
   * request wakes it. Dying soon after a start counts towards a crash loop.
   * Returns whether the exit was unexpected (not one berth caused). `engineError`: why
   * the engine ended it or cannot run it again, when it says (a Swarm task no node can
   * take), told as the reason instead of a bare "its container is gone".
   */
  instanceExited(instanceId: string, exitCode: number | undefined, at?: Date, engineError?: string): boolean {
    // A paused container that died (a stop behind berth's back) is no longer as berth froze it.
    this.instances.takeThawable(instanceId);
    // Taken at every exit, whoever's it is: one left behind (a kill during a start, of a container no slot holds yet)
    // told the container's next crash, of whatever cause, as out of memory.
    const outOfMemory = this.outOfMemory.delete(instanceId);
    const slot = this.instances.slotOf(instanceId);
    if (!slot) {
      this.parkedExited(instanceId, exitCode, this.signals.take(instanceId, at?.getTime() ?? Date.now()));
      return false;
    }
    const startedAt = slot?.instance.startedAt?.getTime();
    const signal = this.signals.take(instanceId, at?.getTime() ?? Date.now());
    const decision = exitDecision({
      tracked: slot !== undefined,
      outOfRotation: slot !== undefined && (slot.draining || slot.unhealthy),
      appRunning: this.state === 'running',
      // A late event about the container's previous run (it was started again since) is stale.
      // Same millisecond counts as earlier: a restart in place can stop and start within one.
      stale: at !== undefined && startedAt !== undefined && at.getTime() <= startedAt,
      othersLeft: this.instances.slots.length - (slot ? 1 : 0),
      exitCode,
      upForMs: slot ? performance.now() - slot.readyAtMs : 0,
      mustRun: this.spec.scale.min >= 1,
      // The kernel's OOM kill sends no engine kill event: that one stays the app's failure.
      signalled: signal !== undefined && !outOfMemory,
    });
    if (decision.kind === 'ignore' || !slot) return false;
    // Several gateways: the leader's stop reaches a follower only as exits; told as the app's own, it showed a
    // reason (and, for a signal's exit code, an error) the leader's view does not have.
    const byLeader = this.acts() ? undefined : (this.deps.leaderStopped?.(this.name, startedAt ?? 0) ?? rolloutRetirement(slot.instance.specHash, containerSpecHash(this.spec)));
    if (byLeader !== undefined) {
      this.instances.drop(slot);
      this.instances.park({ ...slot.instance, state: 'exited', address: undefined });
      this.deps.logger.info({ app: this.name, instance: slot.instance.name, exitCode, reason: byLeader }, 'instance stopped by the leader');
      if (this.state === 'running' && this.instances.slots.length === 0) this.fire('lastExited', byLeader);
      return false;
    }
    this.exitedUnasked.add(instanceId);
    // Following: the leader's notice of this very stop may still be on its way (see leaderStopped).
    if (this.deps.leaderStopped) this.ownExit = { instanceId, name: slot.instance.name, exitCode, atMs: Date.now(), startedAtMs: startedAt ?? 0, lastError: this.lastError };
    if (decision.crashed) {
      this.lastError = outOfMemory ? this.outOfMemoryError(exitCode) : containerExited(exitCode);
      // What the app did (its exit code, its memory limit from the spec): its clients may read it.
      this.publicError = { of: this.lastError, text: this.lastError };
      this.lastOutput = undefined;
    }
    this.instances.drop(slot);
    this.instances.park({ ...slot.instance, state: 'exited', address: undefined });
    this.deps.logger.info({ app: this.name, instance: slot.instance.name, exitCode }, 'instance exited by itself');
    if (decision.kind === 'replace') {
      void this.serial(() => this.fillReplicas());
    } else {
      // Not berth's doing: the status says what happened, as it says why when berth stops the app.
      const ended = engineError ? `the engine cannot run its container: ${engineError}` : endedReason(exitCode, signal);
      if (decision.crashed && decision.early && this.backoff.fail(performance.now()) > 0) this.fire('lastCrashed', `${ended}; ${crashLoopReason(this.backoff.count)}`);
      else {
        if (!decision.early) this.backoff.reset();
        this.fire('lastExited', ended);
      }
    }
    return true;
  }

  /** The last exit told as the app's own while following (see leaderStopped). */
  private ownExit?: { instanceId: string; name: string; exitCode: number | undefined; atMs: number; startedAtMs: number; lastError: string | undefined };

  /**
   * Several gateways, following: the leader announced it stopped the app, at `atMs` (epoch ms). Its
   * notice and the engine's die event reach this gateway in either order; when the exit came first it
   * was told as the app's own ("exited by itself", a signal "from outside berth", for a crash an
   * error), which the leader's view does not have. An exit told so shortly before, of an instance
   * started before the notice, is told again as the leader's stop, as if the notice had come first.
   */
  leaderStopped(reason: string, atMs: number): void {
    const exit = this.ownExit;
    // Only an exit that stopped the app: one replica's crash while others ran is not the leader's stop.
    if (!exit || this.acts() || this.state !== 'stopped' || !isLeaderStopExit(exit, atMs)) return;
    this.ownExit = undefined;
    // Not to be stopped again at the next stop: the leader's stop was berth's.
    this.exitedUnasked.delete(exit.instanceId);
    this.deps.logger.info({ app: this.name, instance: exit.name, exitCode: exit.exitCode, reason }, 'instance stopped by the leader');
    // Its own reading is taken back (the error it set, its reason) for the leader's.
    this.lastError = exit.lastError;
    this.reason = reason;
    this.onChange();
  }

  /**
   * Instances that exited without berth's stop, until berth stops them. An orchestrator may put one
   * back by itself: a Swarm service whose task moved (its node down or drained) reads as an exit,
   * and gets a new task seconds later, which berth adopts; a stop in between must still stop it.
   */
  private readonly exitedUnasked = new Set<string>();

  /** Stops what exited without berth's stop (see exitedUnasked): for a container that is down, the engine does nothing. */
  private async stopExitedUnasked(why: string): Promise<void> {
    for (const id of [...this.exitedUnasked]) {
      this.exitedUnasked.delete(id);
      const kept = this.instances.parked.find((i) => i.id === id && i.state === 'exited');
      if (!kept) continue;
      await this.deps.runtime.stop(id, { timeoutS: 5 }).catch((err: unknown) => this.deps.logger.warn({ app: this.name, instance: kept.name, why, err: messageOf(err) }, 'could not stop an instance that exited by itself'));
    }
  }

  /** Containers the engine reported killed for their memory; their exit says so (the die event follows). */
  private readonly outOfMemory = new Set<string>();

  /** Signals sent to the app's containers (the engine's kill events), so an exit they caused is not told as the app's own. */
  private readonly signals = new SignalBook();

  /** The engine reports a signal sent to a container (docker stop, kill or restart, or berth's own stop); its exit may follow. */
  instanceSignalled(instanceId: string, signal: number, at: Date): void {
    this.signals.note(instanceId, signal, at.getTime());
  }

  /** The engine reports the kernel's OOM killer struck the container; its exit comes next. */
  instanceOutOfMemory(instanceId: string): void {
    this.outOfMemory.add(instanceId);
  }

  private outOfMemoryError(exitCode: number | undefined): string {
    return outOfMemoryError(exitCode, this.spec.resources.memoryBytes);
  }

  /**
   * A kept container that was not serving died: one frozen (paused) or running
   * unready. Its record says so, and a paused app whose frozen containers are
   * all gone is stopped: showing paused, it would promise a thaw that cannot be.
   */
  private parkedExited(instanceId: string, exitCode: number | undefined, signal?: number): void {
    const kept = this.instances.parked.find((i) => i.id === instanceId && (i.state === 'paused' || i.state === 'running'));
    if (!kept) return;
    this.instances.park({ ...kept, state: 'exited', address: undefined, ...(exitCode === undefined ? {} : { exitCode }) });
    if (this.state === 'paused' && !this.instances.parked.some((i) => i.state === 'paused')) this.fire('stopped', endedReason(exitCode, signal));
  }

  /**
   * The proxy could not reach `instanceId` (refused, or closed before any answer): the engine is asked
   * whether it is gone, and one that runs but keeps failing is ejected (unreachable-check.ts).
   */
  unreachable(instanceId: string): Promise<boolean> {
    return this.unreachableChecks.check(instanceId);
  }

  /**
   * The engine reports a container of this app started, and berth did not start
   * it (`docker start` by hand, another process): while the app is down it is
   * adopted, shows `running`, and berth's idle policy applies to it.
   */
  instanceStarted(instanceId: string): Promise<void> {
    // Started again behind berth's back, it may listen at another port: a wake must look, not just thaw.
    this.instances.takeThawable(instanceId);
    // A gateway that does not lead also takes in the leader's new instances (replicas, rollouts) while the app runs.
    const takes = () => !this.closed && !this.recovery.restarting(instanceId) && (isDown(this.state) || (this.state === 'running' && !this.acts()));
    if (!takes()) return Promise.resolve();
    return this.serial(async () => {
      if (!takes()) return;
      const now = await this.deps.runtime.inspect(instanceId).catch(() => undefined);
      // Paused again by the time it is looked at (`docker start` then `docker pause`): adopted as paused, not left as exited.
      if (!now || (now.state !== 'running' && now.state !== 'paused')) return;
      this.deps.logger.info({ app: this.name, instance: now.name }, 'container started outside berth: adopted');
      this.timers.idle.touch();
      await this.adopt([now]);
    });
  }

  /**
   * The engine reports an instance paused. berth pauses only while the app is
   * stopping, so one paused while it serves was paused behind berth's back
   * (`docker pause`): a frozen container still takes connections and answers
   * none, so every request sent to it waited for the response timeout (504)
   * while the app showed running. It leaves the rotation at once; when it was
   * the last, the app is paused and the next request wakes it (a full start,
   * which unpauses it: berth did not freeze it, so it thaws nothing blind).
   */
  instancePaused(instanceId: string, at?: Date): void {
    const slot = this.instances.slotOf(instanceId);
    if (this.state !== 'running' || !slot) return;
    // The event of berth's own idle pause can come after the wake that thawed it (the event stream lags the
    // engine's answers): a pause from before the instance entered rotation is not one behind berth's back.
    if (at !== undefined && at.getTime() < slot.readySince) return;
    this.instances.drop(slot);
    this.instances.park({ ...slot.instance, state: 'paused' });
    this.deps.logger.warn({ app: this.name, instance: slot.instance.name }, 'instance paused outside berth: out of rotation');
    if (this.instances.slots.length === 0) this.fire('outsidePause', 'its container was paused outside berth');
  }

  /**
   * An instance in rotation runs, but no longer where berth dials it
   * (published-route.ts): taken off its network outside berth, or connected
   * again at another port. It showed running while every request to it failed.
   * It leaves the rotation and is restarted in place, which puts it back on the
   * apps network and publishes its port anew; requests meanwhile wait for it.
   */
  instanceRouteLost(instanceId: string): void {
    const slot = this.instances.slotOf(instanceId);
    if (!slot || this.state !== 'running') return;
    void this.recover(slot, ROUTE_LOST);
  }

  /**
   * An instance berth serves from no longer runs the app's spec: a Swarm service
   * edited behind berth's back (`docker service update --image`, --constraint-add,
   * --limit-memory, --publish-rm…). As for a container taken off its network, it is
   * restarted in place, out of rotation meanwhile (requests wait for it, or go to the
   * other replicas): the restart brings the service back to the app's spec (the
   * runtime refuses to start an edited one, and ensure rewrites it). The status's
   * reason says so once it serves again; when it cannot be brought back, the app's
   * failure says why, as for any instance that does not come back.
   */
  instanceChanged(instanceId: string): void {
    const slot = this.instances.slotOf(instanceId);
    if (!slot || slot.draining || slot.unhealthy || this.state !== 'running') return;
    void this.recover(slot, CHANGED_OUTSIDE).then((back) => {
      if (!back || this.state !== 'running') return;
      this.reason = `its instance ${slot.instance.name} ${CHANGED_OUTSIDE}; berth brought it back to the app's spec`;
      this.onChange();
    });
  }

  /**
   * The engine reports a container joined or left a network. When it is one this
   * app serves from (and berth is not stopping or restarting it), it is looked at:
   * its published port may be gone or moved.
   */
  networkChanged(instanceId: string): void {
    // A frozen container whose network changed has no port where berth left it: its wake must look, not just thaw.
    this.instances.takeThawable(instanceId);
    const slot = this.instances.slotOf(instanceId);
    if (!slot || slot.draining || slot.unhealthy || this.state !== 'running') return;
    void this.deps.runtime.inspect(instanceId).then(
      (now) => {
        if (this.instances.slotOf(instanceId) === slot && routeLost(slot.instance.address, now)) this.instanceRouteLost(instanceId);
      },
      () => undefined,
    );
  }

  /** The engine reports a container removed (by berth or behind its back): it is forgotten. */
  instanceRemoved(instanceId: string): void {
    this.signals.forget(instanceId);
    this.outOfMemory.delete(instanceId);
    this.instances.forget((i) => i.id !== instanceId);
  }

  /** Records a failure found outside a start, e.g. a name conflict at reconcile time; `owner`: whose it is (failureOwner). */
  fail(reason: string, owner: FailureOwner = 'app'): void {
    this.lastError = reason;
    if (owner === 'surroundings') this.surroundingsError = reason;
    this.lastOutput = undefined;
    this.fire('reconcileFailed');
  }

  /**
   * The last error of a start that failed less than `withinMs` ago, in its public form (publicLastError: the
   * waiting page tells it to whoever asked). Measured on the monotonic clock: on the wall clock, a clock set
   * back kept the waiting page's error for as long as it was set back, and one set forward dropped it at
   * once, so a reload started the broken app again.
   */
  failedWithin(withinMs: number): string | undefined {
    return this.state === 'failed' && performance.now() - this.sinceMs < withinMs ? this.publicLastError() : undefined;
  }

  /** Milliseconds before a start may be tried again (0: now). */
  retryDelayMs(): number {
    return this.gate.retryDelayMs();
  }

  /** When the app last had a request, epoch ms (whole); undefined when it never had one. */
  get lastRequestAtMs(): number | undefined {
    const at = this.timers.idle.lastActivity;
    return at === undefined ? undefined : Math.round(at.getTime());
  }

  /** The app's last request before the gateway restarted (epoch ms), as saved: see IdleClock.restore. */
  restoreLastRequest(atMs: number): void {
    this.timers.idle.restore(atMs);
  }

  /**
   * The app's failure the store kept from before the gateway restarted: the app shows `failed` with
   * its reason and moment, as it did then, until it starts again (its next request still tries a
   * start, as for any failed app; no crash-loop backoff is carried over). Called once, before adopt:
   * a container of the app found serving makes it `running` there, which forgets the failure.
   * Also when the gateway takes the lead (Activator.takeKeptFailures): `announce` tells the change then.
   */
  restoreFailure(failure: StoredFailure, announce = false): void {
    if (this.state !== 'stopped' || this.lastError !== undefined || this.closed) return;
    this.state = 'failed';
    this.since = failure.failedAt;
    // On the monotonic clock as long ago as on the wall clock (see failedWithin); a moment ahead counts as now.
    this.sinceMs = performance.now() - Math.max(0, Date.now() - failure.failedAt.getTime());
    this.reason = failure.reason;
    this.lastError = failure.lastError;
    this.publicError = { of: failure.lastError, text: failure.publicError };
    this.lastOutput = failure.lastOutput;
    this.failureKept = true;
    if (announce) this.onChange();
  }

  /** Activity that keeps the app up: a request, a WebSocket, or a dependent app holding it. */
  began(): void {
    this.timers.idle.began();
  }

  ended(): void {
    this.timers.idle.ended();
  }

  /**
   * Stops all work. With `why` (a delete), a start in progress is cancelled
   * and its waiters told `why` at once: a DELETE must not wait out a start.
   */
  close(why?: string): void {
    // A delete cancels a start in progress, and so does the shutdown: the gateway closes the activator after its
    // drain, when no waiter is left to serve, and a start left going would probe on until its start timeout.
    if (why) this.closedWhy = why;
    this.deleted = why !== undefined;
    this.startAbort?.abort();
    this.closed = true;
    this.idleStop.close();
    this.gate.close();
    this.timers.stopAll();
    this.health.stop();
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
      this.sinceMs = performance.now();
      if (result.next !== 'running') this.timers.idle.disarm();
      // Serving again (adopted once ready): nothing kept aside is left to stop.
      else this.leftovers.cancel();
      this.onChange();
    }
    // After a legal step only, and also for one that stays (a new failure while failed says a new why).
    this.keepFailure();
    for (const action of result.actions) this.act(action);
  }

  /** Tells the store the app's failure now, or that it is past it, when that changed (kept-failure.ts). */
  private keepFailure(): void {
    const keep = this.deps.keepFailure;
    // Closed: deleted (its row goes with it) or shutting down, where a start called off is no failure of the app's.
    if (!keep || this.closed) return;
    const owner = this.lastError === undefined ? undefined : this.lastError === this.surroundingsError ? 'surroundings' : 'app';
    const decision = failureKeeping(this.state, owner, this.failureKept);
    if (decision === 'leave') return;
    this.failureKept = decision === 'keep';
    if (decision === 'forget' || this.lastError === undefined) return keep(this.name, undefined);
    keep(this.name, {
      ...(this.reason === undefined ? {} : { reason: this.reason }),
      lastError: this.lastError,
      publicError: this.publicLastError() ?? `app ${this.name} failed to start`,
      ...(this.lastOutput === undefined ? {} : { lastOutput: this.lastOutput }),
      failedAt: this.since,
    });
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
        return this.dependencies.release();
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
    this.instances.park({ ...left, state: 'exited', address: undefined });
  }

  /** What the controller believes about its containers, for the periodic resync (resync-plan.ts) to check against the engine. */
  believed(): BelievedApp {
    return {
      name: this.name,
      state: this.state,
      containerHash: containerSpecHash(this.spec),
      slots: this.instances.slots.map((s) => ({ id: s.instance.id, busy: s.draining || s.unhealthy, ...(s.instance.address ? { address: s.instance.address } : {}) })),
      parked: this.instances.parked.map((i) => ({ id: i.id, state: i.state })),
    };
  }
}
