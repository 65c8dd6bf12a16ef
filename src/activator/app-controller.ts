import type { Logger } from 'pino';
import { BerthError, messageOf, RuntimeError } from '../errors.js';
import type { Instance, Runtime } from '../runtime/runtime.js';
import type { Upstream } from '../proxy/upstream.js';
import type { AppSpec } from '../spec/types.js';
import { containerSpecHash } from '../spec/hash.js';
import type { AppState, AppStatus } from './app-status.js';
import { waitUntilReady } from './readiness.js';

export interface AppControllerDeps {
  runtime: Runtime;
  logger: Logger;
  onChange: (status: AppStatus) => void;
}

/** A start that did not end with a ready app; carries the reason for every waiter. */
export class StartFailedError extends BerthError {
  constructor(app: string, reason: string, timedOut: boolean) {
    super(timedOut ? 'upstream_timeout' : 'upstream_unavailable', `app ${app} failed to start: ${reason}`);
  }
}

/**
 * Owns one app's instance: starts it once however many requests want it
 * (single flight), tells when it is ready, and stops or replaces it. All state
 * changes go through `setState`, so watchers see every transition.
 */
export class AppController {
  spec: AppSpec;
  private state: AppState = 'stopped';
  private since = new Date();
  private lastError?: string;
  private lastStartMs?: number;
  private instance?: Instance;
  /** Set only while running and ready: the proxy's fast path reads just this. */
  upstream?: Upstream;
  private starting?: Promise<Upstream>;
  inFlight = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(spec: AppSpec, private readonly deps: AppControllerDeps) {
    this.spec = spec;
  }

  get name(): string {
    return this.spec.name;
  }

  status(): AppStatus {
    const i = this.instance;
    return {
      name: this.name,
      state: this.state,
      since: this.since,
      lastError: this.lastError,
      lastStartMs: this.lastStartMs,
      inFlight: this.inFlight,
      instance: i?.address ? { id: i.id, address: `${i.address.host}:${i.address.port}` } : undefined,
    };
  }

  /** The app's ready upstream, starting it first if needed; concurrent callers share one start. */
  acquire(): Promise<Upstream> {
    if (this.upstream) return Promise.resolve(this.upstream);
    this.starting ??= this.start().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async start(): Promise<Upstream> {
    const began = performance.now();
    const spec = this.spec;
    this.setState('starting');
    try {
      const created = await this.deps.runtime.ensure(spec, 0);
      const running = await this.deps.runtime.start(created.id);
      if (!running.address) throw new RuntimeError(`container ${running.name} has no published port ${spec.port}`);
      this.instance = running;
      const result = await waitUntilReady(running.address, spec.readiness, {
        deadline: began + spec.startTimeoutMs,
        stillStarting: () => this.exitedReason(running.id),
      });
      if (!result.ready) throw new StartFailedError(this.name, result.reason, result.reason.startsWith('not ready in time'));
      const { host, port } = running.address;
      this.upstream = { app: this.name, instanceId: running.id, origin: `http://${host}:${port}`, host, port };
      this.lastStartMs = Math.round(performance.now() - began);
      this.lastError = undefined;
      this.setState('running');
      return this.upstream;
    } catch (err) {
      // Whatever went wrong (a name conflict, a missing image, a crash), a
      // waiting client is answered by the gateway: 502, or 504 on a timeout.
      const failure = err instanceof StartFailedError ? err : new StartFailedError(this.name, messageOf(err), false);
      this.lastError = failure.message;
      this.upstream = undefined;
      this.setState('failed');
      this.deps.logger.warn({ app: this.name, err: failure.message }, 'app failed to start');
      throw failure;
    }
  }

  private async exitedReason(id: string): Promise<string | undefined> {
    const now = await this.deps.runtime.inspect(id).catch(() => undefined);
    if (!now) return 'the container disappeared';
    if (now.state === 'exited' || now.state === 'dead') return `the container exited with code ${now.exitCode ?? '?'}`;
    return undefined;
  }

  /** Adopts an already running, matching container without restarting it. */
  async adopt(instance: Instance): Promise<void> {
    if (!instance.address || this.upstream) return;
    const result = await waitUntilReady(instance.address, this.spec.readiness, { deadline: performance.now() + 2_000 });
    if (!result.ready) return;
    const { host, port } = instance.address;
    this.instance = instance;
    this.upstream = { app: this.name, instanceId: instance.id, origin: `http://${host}:${port}`, host, port };
    this.setState('running');
    this.deps.logger.info({ app: this.name, instance: instance.name }, 'adopted running container');
  }

  /** Takes a new spec. A change to the container's shape replaces a running one after draining. */
  async update(spec: AppSpec): Promise<void> {
    const reshaped = containerSpecHash(spec) !== containerSpecHash(this.spec);
    this.spec = spec;
    if (!reshaped || !this.upstream) return;
    this.deps.logger.info({ app: this.name }, 'spec changed: replacing the container');
    await this.stop('replacing');
    await this.acquire();
  }

  /** Stops the instance after requests in flight finish (bounded by `graceMs`). */
  async stop(why: string, graceMs = 30_000): Promise<void> {
    const instance = this.instance;
    this.upstream = undefined;
    if (!instance) return;
    this.setState('stopping');
    await this.waitIdle(graceMs);
    try {
      await this.deps.runtime.stop(instance.id, { timeoutS: 10 });
    } catch (err) {
      this.deps.logger.warn({ app: this.name, err: messageOf(err) }, 'stop failed');
    }
    this.instance = undefined;
    this.setState('stopped');
    this.deps.logger.info({ app: this.name, why }, 'app stopped');
  }

  /** The engine reports the instance gone (crash, exit, external stop). */
  instanceExited(instanceId: string, exitCode: number | undefined): void {
    if (this.instance?.id !== instanceId || this.state === 'stopping' || this.state === 'starting') return;
    this.upstream = undefined;
    this.instance = undefined;
    this.lastError = `the container exited with code ${exitCode ?? '?'}`;
    this.setState('stopped');
  }

  /** Records a failure found outside a start, e.g. a name conflict at reconcile time. */
  fail(reason: string): void {
    this.lastError = reason;
    this.setState('failed');
  }

  began(): void {
    this.inFlight++;
  }

  ended(): void {
    if (--this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private waitIdle(graceMs: number): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, graceMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private setState(state: AppState): void {
    if (state === this.state) return;
    this.state = state;
    this.since = new Date();
    this.deps.onChange(this.status());
  }
}
