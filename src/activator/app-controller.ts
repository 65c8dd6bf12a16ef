import type { Logger } from 'pino';
import { messageOf, RuntimeError } from '../errors.js';
import type { Instance, Runtime } from '../runtime/runtime.js';
import type { Upstream } from '../proxy/upstream.js';
import type { AppSpec, DockerPolicy, WaitingPageText } from '../spec/types.js';
import { policyIssues } from '../spec/policy.js';
import { containerSpecHash } from '../spec/hash.js';
import type { AppState, AppStatus } from './app-status.js';
import { CrashBackoff } from './crash-backoff.js';
import { IdleClock } from './idle-clock.js';
import { waitUntilHealthy, waitUntilReady } from './readiness.js';
import { CrashLoopError, QueueFullError, StartFailedError } from './start-errors.js';

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
}

/** An instance that dies sooner than this after becoming ready counts as a crash. */
const EARLY_EXIT_MS = 30_000;

/**
 * How long the engine is asked whether an unreachable instance has exited: the
 * engine records an exit a few milliseconds after the process is gone.
 */
const UNREACHABLE_CHECK_MS = 500;

/**
 * Owns one app's instance and its life: starts it once however many requests
 * want it (single flight), stops or pauses it when idle, notices when it dies,
 * and backs off when it keeps failing. Lifecycle steps run one at a time
 * through `serial`, so a request that arrives while the app is being stopped
 * simply waits for the stop to finish and then wakes it again.
 */
export class AppController {
  spec: AppSpec;
  /** Set only while running and ready: the proxy's fast path reads just this. */
  upstream?: Upstream;
  private state: AppState = 'stopped';
  private since = new Date();
  private lastError?: string;
  private lastStartMs?: number;
  private readyAtMs = 0;
  private instance?: Instance;
  private starting?: Promise<Upstream>;
  private waiting = 0;
  private lifecycle: Promise<unknown> = Promise.resolve();
  private readonly backoff = new CrashBackoff();
  private readonly idle: IdleClock;
  private removeTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    spec: AppSpec,
    private readonly deps: AppControllerDeps,
  ) {
    this.spec = spec;
    this.idle = new IdleClock(() => this.onIdle());
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

  status(): AppStatus {
    const i = this.instance;
    const retryMs = this.state === 'crashloop' ? this.backoff.waitMs(performance.now()) : 0;
    return {
      name: this.name,
      state: this.state,
      since: this.since,
      lastActivity: this.idle.lastActivity,
      idleAt: this.state === 'running' ? this.idle.idleAt : undefined,
      retryAt: retryMs > 0 ? new Date(Date.now() + retryMs) : undefined,
      lastError: this.lastError,
      lastStartMs: this.lastStartMs,
      inFlight: this.idle.inFlight,
      waiting: this.waiting,
      instance: i ? { id: i.id, address: i.address ? `${i.address.host}:${i.address.port}` : undefined } : undefined,
    };
  }

  /**
   * The app's ready upstream, starting it first if needed. Concurrent callers
   * share one start; beyond the queue size they are refused at once, and while
   * the app is crash-looping they are told when to come back.
   */
  acquire(): Promise<Upstream> {
    if (this.upstream) return Promise.resolve(this.upstream);
    const waitMs = this.backoff.waitMs(performance.now());
    if (waitMs > 0) return Promise.reject(new CrashLoopError(this.name, this.lastError ?? 'repeated failures', Math.ceil(waitMs / 1000)));
    const queueSize = this.spec.queueSize ?? this.deps.defaults().queueSize;
    if (this.waiting >= queueSize) return Promise.reject(new QueueFullError(this.name, queueSize));
    this.waiting++;
    this.starting ??= this.serial(() => this.start()).finally(() => (this.starting = undefined));
    return this.starting.finally(() => this.waiting--);
  }

  /** Runs lifecycle steps one after another, whatever the outcome of the previous one. */
  private serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.lifecycle.then(step);
    this.lifecycle = run.catch(() => undefined);
    return run;
  }

  private async start(): Promise<Upstream> {
    if (this.upstream) return this.upstream;
    if (this.closed) throw new StartFailedError(this.name, 'the gateway is shutting down', false);
    const began = performance.now();
    const spec = this.spec;
    const waking = this.state === 'paused';
    clearTimeout(this.removeTimer);
    this.setState('starting');
    try {
      const denied = policyIssues(spec, this.deps.defaults().policy);
      if (denied.length > 0) throw new Error(`the gateway's policy no longer allows it: ${denied.map((d) => d.message).join('; ')}`);
      const instance = this.instance && waking ? this.instance : await this.deps.runtime.ensure(spec, 0);
      const running = await this.deps.runtime.start(instance.id);
      if (!running.address) throw new RuntimeError(`container ${running.name} has no published port ${spec.port}`);
      this.instance = running;
      const deadline = began + spec.startTimeoutMs;
      const result =
        running.health !== 'none'
          ? await waitUntilHealthy(() => this.deps.runtime.inspect(running.id), deadline)
          : await waitUntilReady(running.address, spec.readiness, { deadline, stillStarting: () => this.exitedReason(running.id) });
      if (!result.ready) throw new StartFailedError(this.name, result.reason, result.reason.startsWith('not ready in time'));
      return this.becomeReady(running, began);
    } catch (err) {
      throw this.startFailed(err);
    }
  }

  private becomeReady(instance: Instance, began: number): Upstream {
    const { host, port } = instance.address!;
    this.instance = instance;
    this.upstream = { app: this.name, instanceId: instance.id, origin: `http://${host}:${port}`, host, port };
    this.readyAtMs = performance.now();
    this.lastStartMs = Math.round(this.readyAtMs - began);
    this.lastError = undefined;
    // The idle timeout counts from readiness, not from a request that ended while it started.
    this.idle.touch();
    this.setState('running');
    this.armIdle();
    return this.upstream;
  }

  /** Every waiter gets the same answer: 502, or 504 on a timeout; repeated failures become a crash loop. */
  private startFailed(err: unknown): Error {
    const failure = err instanceof StartFailedError ? err : new StartFailedError(this.name, messageOf(err), false);
    this.upstream = undefined;
    this.lastError = failure.message;
    const delay = this.backoff.fail(performance.now());
    this.setState(delay > 0 ? 'crashloop' : 'failed');
    this.deps.logger.warn({ app: this.name, err: failure.message, retryInMs: delay || undefined }, 'app failed to start');
    return failure;
  }

  private async exitedReason(id: string): Promise<string | undefined> {
    const now = await this.deps.runtime.inspect(id).catch(() => undefined);
    if (!now) return 'the container disappeared';
    if (now.state === 'exited' || now.state === 'dead') return `the container exited with code ${now.exitCode ?? '?'}`;
    return undefined;
  }

  /** Takes over a container found at gateway start: running ones are adopted, paused ones stay paused. */
  async adopt(instance: Instance): Promise<void> {
    if (this.upstream || !instance.address) return;
    if (instance.state === 'paused') {
      this.instance = instance;
      this.setState('paused');
      return;
    }
    const result = await waitUntilReady(instance.address, this.spec.readiness, { deadline: performance.now() + 2_000 });
    if (!result.ready) return;
    const { host, port } = instance.address;
    this.instance = instance;
    this.upstream = { app: this.name, instanceId: instance.id, origin: `http://${host}:${port}`, host, port };
    this.readyAtMs = performance.now();
    this.setState('running');
    this.armIdle();
  }

  /** Takes a new spec. A change to the container's shape replaces a running one after draining. */
  async update(spec: AppSpec): Promise<void> {
    const reshaped = containerSpecHash(spec) !== containerSpecHash(this.spec);
    this.spec = spec;
    this.armIdle();
    if (!reshaped) return;
    if (this.state === 'crashloop' || this.state === 'failed') this.backoff.reset();
    if (!this.upstream && this.state !== 'paused') return;
    this.deps.logger.info({ app: this.name }, 'spec changed: replacing the container');
    await this.stop('replaced');
    await this.acquire();
  }

  /** Stops the instance after requests in flight finish (bounded by `graceMs`); the container is kept. */
  stop(why: string, graceMs = 30_000): Promise<void> {
    return this.serial(async () => {
      const instance = this.instance;
      if (!instance || this.state === 'stopped') return;
      this.upstream = undefined;
      this.setState('stopping');
      await this.idle.drained(graceMs);
      await this.deps.runtime.stop(instance.id, { timeoutS: 10 }).catch((err: unknown) => this.deps.logger.warn({ app: this.name, err: messageOf(err) }, 'stop failed'));
      this.backoff.reset();
      this.setState('stopped');
      this.deps.logger.info({ app: this.name, why }, 'app stopped');
      this.armRemoval();
    });
  }

  /** Removes the container now (volume kept unless purged); the next request creates it again. */
  remove(purgeVolumes = false): Promise<void> {
    return this.serial(async () => {
      const instance = this.instance;
      this.upstream = undefined;
      this.instance = undefined;
      clearTimeout(this.removeTimer);
      if (instance) await this.deps.runtime.remove(instance.id, { purgeVolumes });
      if (this.state !== 'stopped') this.setState('stopped');
    });
  }

  /** The idle clock ran out: stop or pause, unless activity came in meanwhile. */
  private onIdle(): void {
    if (this.state !== 'running' || this.spec.scale.min > 0) return;
    void this.serial(async () => {
      // Checked inside the step: a request may have arrived since the timer fired.
      if (this.idle.inFlight > 0 || this.state !== 'running' || !this.instance) return;
      if (this.spec.idleAction === 'pause') return this.pauseNow(this.instance);
      this.upstream = undefined;
      this.setState('stopping');
      await this.deps.runtime.stop(this.instance.id, { timeoutS: 10 }).catch((err: unknown) => this.deps.logger.warn({ app: this.name, err: messageOf(err) }, 'idle stop failed'));
      this.backoff.reset();
      this.setState('stopped');
      this.deps.logger.info({ app: this.name }, 'app stopped after being idle');
      this.armRemoval();
    });
  }

  private async pauseNow(instance: Instance): Promise<void> {
    this.upstream = undefined;
    this.setState('stopping');
    try {
      await this.deps.runtime.pause(instance.id);
      this.setState('paused');
      this.deps.logger.info({ app: this.name }, 'app paused after being idle');
    } catch (err) {
      this.deps.logger.warn({ app: this.name, err: messageOf(err) }, 'pause failed; stopping instead');
      await this.deps.runtime.stop(instance.id).catch(() => undefined);
      this.setState('stopped');
    }
  }

  private armIdle(): void {
    const idleMs = this.spec.idleTimeoutMs ?? this.deps.defaults().idleTimeoutMs;
    if (this.state === 'running' && this.spec.scale.min === 0) this.idle.arm(idleMs);
    else this.idle.disarm();
  }

  private armRemoval(): void {
    clearTimeout(this.removeTimer);
    const after = this.spec.removeAfterMs;
    if (after === undefined || this.closed) return;
    this.removeTimer = setTimeout(() => {
      if (this.state === 'stopped' && this.instance) {
        this.deps.logger.info({ app: this.name }, 'removing the container of a long-stopped app (volume kept)');
        void this.remove().catch((err: unknown) => this.deps.logger.warn({ app: this.name, err: messageOf(err) }, 'remove failed'));
      }
    }, after);
    this.removeTimer.unref();
  }

  /**
   * The engine reports the instance gone: a crash, an app that quits when idle
   * (like seed 000's minions), or someone's `docker stop`. The app becomes
   * stopped and the next request wakes it; dying soon after a start counts
   * towards a crash loop. Returns whether the exit was unexpected (not one
   * berth caused by stopping or replacing the instance).
   */
  instanceExited(instanceId: string, exitCode: number | undefined, at?: Date): boolean {
    if (this.instance?.id !== instanceId || this.state !== 'running') return false;
    // A late event about the container's previous run (it was started again since) is stale.
    const startedAt = this.instance.startedAt?.getTime();
    if (at && startedAt !== undefined && at.getTime() < startedAt) return false;
    this.upstream = undefined;
    const early = performance.now() - this.readyAtMs < EARLY_EXIT_MS;
    const crashed = exitCode !== 0 && exitCode !== undefined;
    if (crashed) this.lastError = `the container exited with code ${exitCode}`;
    if (crashed && early && this.backoff.fail(performance.now()) > 0) {
      this.setState('crashloop');
    } else {
      if (!early) this.backoff.reset();
      this.setState('stopped');
    }
    this.deps.logger.info({ app: this.name, exitCode }, 'app exited by itself');
    this.armRemoval();
    return true;
  }

  /**
   * The proxy could not reach `instanceId` (refused, or closed before any
   * answer). An app that quits by itself (seed 000) races the engine's die
   * event, so the engine is asked, for a short while, whether the instance is
   * gone; if it is, the app becomes stopped and the request can wake it.
   */
  async unreachable(instanceId: string): Promise<boolean> {
    const deadline = performance.now() + UNREACHABLE_CHECK_MS;
    for (;;) {
      // Already handled: the die event came, or the instance was replaced or stopped.
      if (this.instance?.id !== instanceId || this.state !== 'running') return true;
      const now = await this.deps.runtime.inspect(instanceId).catch(() => undefined);
      if (this.instance?.id !== instanceId || this.state !== 'running') return true;
      if (!now || now.state === 'exited' || now.state === 'dead') {
        this.instanceExited(instanceId, now?.exitCode);
        return true;
      }
      if (performance.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Records a failure found outside a start, e.g. a name conflict at reconcile time. */
  fail(reason: string): void {
    this.lastError = reason;
    this.setState('failed');
  }

  /** Milliseconds before a start may be tried again (0: now). */
  retryDelayMs(): number {
    return this.backoff.waitMs(performance.now());
  }

  began(): void {
    this.idle.began();
  }

  ended(): void {
    this.idle.ended();
  }

  close(): void {
    this.closed = true;
    this.idle.disarm();
    clearTimeout(this.removeTimer);
  }

  private setState(state: AppState): void {
    if (state === this.state) return;
    this.state = state;
    this.since = new Date();
    if (state !== 'running') this.idle.disarm();
    this.deps.onChange(this.status());
  }
}
