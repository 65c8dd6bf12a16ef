import { ContainerPowersError, NotFoundError, RuntimeError, withLastOutput } from '../errors.js';
import type { Candidate } from '../proxy/balancer/balancer-policy.js';
import { tunnelsGoAway } from '../proxy/tunnels-go-away.js';
import type { Upstream } from '../proxy/upstream.js';
import type { Instance, Runtime, StartOptions } from '../runtime/runtime.js';
import { lastOutput } from '../runtime/last-output.js';
import { containerSpecHash } from '../spec/hash.js';
import type { AppSpec } from '../spec/types.js';
import { silentReason, waitUntilHealthy, waitUntilReady } from './readiness.js';
import { StartFailedError } from './start-errors.js';
import { duringStart, PAUSED_WHILE_STARTING } from './start-watch.js';

/**
 * One container of an app as the controller tracks it: where it is, which
 * spec it runs, and — once ready — the upstream the proxy dials. A slot is
 * also the balancer's candidate, so the policy reads live counters without a
 * copy per request.
 */
export class Slot implements Candidate {
  upstream: Upstream;
  readyAtMs = 0;
  /** When it entered rotation (slots are made ready), on the wall clock the engine's events carry: an event from before is of an earlier life. */
  readonly readySince = Date.now();
  /** Out of rotation: draining before a stop, or failing its health checks. */
  draining = false;
  unhealthy = false;
  healthFails = 0;
  healthOks = 0;
  /** A health check of this instance is under way: the next round leaves it be (see HealthChecker). */
  healthChecking = false;

  constructor(
    readonly index: number,
    public instance: Instance,
    readonly hash: string,
  ) {
    this.upstream = upstreamOf(instance);
  }

  get inFlight(): number {
    return this.upstream.inFlight;
  }

  get available(): boolean {
    return !this.draining && !this.unhealthy;
  }
}

function upstreamOf(instance: Instance): Upstream {
  const host = instance.address?.host ?? '127.0.0.1';
  const port = instance.address?.port ?? 0;
  return { app: instance.app, instanceId: instance.id, instanceName: instance.name, origin: `http://${host}:${port}`, host, port, inFlight: 0, failures: 0 };
}

/**
 * Creates (or adopts) and starts instance `index` of `spec`, and waits until it
 * is ready: Docker's HEALTHCHECK when the image has one, else the readiness
 * probe. Throws StartFailedError with the reason otherwise. A container
 * restarted behind berth's back meanwhile (`docker restart`) is waited for at
 * its new address, within the same deadline: its start is not a failure.
 * `mayRemake`: whether a container removed meanwhile may still be made anew (below); absent: yes.
 */
export async function startSlot(
  runtime: Runtime,
  spec: AppSpec,
  index: number,
  deadline: number,
  existing?: Instance,
  onStarted?: (running: Instance) => void,
  signal?: AbortSignal,
  mayRemake: () => boolean = () => true,
): Promise<Slot> {
  let running = await startExisting(runtime, spec, index, deadline, existing, signal);
  let remade = false;
  for (;;) {
    onStarted?.(running);
    // Frozen by a `docker pause` between its start and the look at it: a paused container has no port to dial.
    if (running.state === 'paused') throw new StartFailedError(spec.name, PAUSED_WHILE_STARTING, false);
    if (!running.address) throw new RuntimeError(`container ${running.name} has no published port ${spec.port}`);
    const watch = new StartWatch(runtime, running, deadline);
    let result =
      running.health !== 'none'
        ? await waitUntilHealthy(() => runtime.inspect(running.id), deadline, signal, spec.startTimeoutMs)
        : await waitUntilReady(running.address, spec.readiness, { deadline, startTimeoutMs: spec.startTimeoutMs, signal, stillStarting: () => watch.check() });
    // The health check path sees an exit as a failure: it may have been a restart's stop.
    if (!result.ready && !watch.restarted && running.health !== 'none' && !signal?.aborted) await watch.check();
    if (watch.restarted) {
      running = watch.restarted;
      continue;
    }
    // Removed behind berth's back while it started (docker rm -f): a new one, once, within the same deadline.
    // Only for a cold start (the one caller with a signal, which a delete aborts): a rollout's or a replica's
    // container removed meanwhile was removed by berth's own change of plan as often as not. Nor, with several
    // gateways, once the start has let its app's lease go: the leader removing the app deleted meanwhile (under
    // the lease, before this gateway heard of the delete) looks the same, and a container made again outside
    // the lease ran on with no app behind it. That start fails; the next one makes the container under the lease.
    if (watch.gone && !remade && signal && !signal.aborted && performance.now() < deadline && mayRemake()) {
      remade = true;
      running = await startExisting(runtime, spec, index, deadline, undefined, signal);
      continue;
    }
    if (!result.ready) {
      const reason = result.silent ? silentReason(result.reason, spec.port, await runtime.imagePorts(spec.image).catch(() => undefined)) : result.reason;
      const failure = new StartFailedError(spec.name, reason, result.reason.startsWith('not ready in time'));
      // A container that died while it started: what it said last is most often why (a missing setting, a stack trace).
      if (signal?.aborted || !isDead(await runtime.inspect(running.id).catch(() => undefined))) throw failure;
      const id = running.id;
      throw withLastOutput(failure, await lastOutput((options) => runtime.logs(id, options)));
    }
    const slot = new Slot(index, running, containerSpecHash(spec));
    slot.readyAtMs = performance.now();
    return slot;
  }
}

function isDead(instance: Instance | undefined): boolean {
  return instance?.state === 'exited' || instance?.state === 'dead';
}

/**
 * How long a container stopped by a signal during its start is given to come back: a
 * `docker restart` starts it again right after the stop, but on a loaded engine that start
 * takes seconds (1.5 s was too short once in CI: the waiting request got "exited with code
 * 143" for a restart). A container stopped for good fails this much later, within its deadline.
 */
const RESTART_GRACE_MS = 5_000;

/**
 * Looks at a container being started, between readiness attempts (start-watch.ts
 * decides): answers a reason to give up, or undefined to go on; a run started
 * behind berth's back is left in `restarted`, and the wait ends so it is probed anew.
 */
class StartWatch {
  restarted?: Instance;
  /** Removed meanwhile. */
  gone = false;

  constructor(
    private readonly runtime: Runtime,
    private readonly started: Instance,
    private readonly deadline: number,
  ) {}

  async check(): Promise<string | undefined> {
    const graceEnds = Math.min(performance.now() + RESTART_GRACE_MS, this.deadline);
    for (;;) {
      const seen = duringStart(this.started, await this.runtime.inspect(this.started.id).catch(() => undefined));
      if (seen.kind === 'starting') return undefined;
      if (seen.kind === 'failed') return seen.reason;
      if (seen.kind === 'gone') {
        this.gone = true;
        return seen.reason;
      }
      if (seen.kind === 'restarted') {
        this.restarted = seen.now;
        return 'the container was restarted outside berth';
      }
      if (seen.kind === 'unrouted') {
        try {
          this.restarted = await this.runtime.start(this.started.id);
        } catch (err) {
          return `the container lost its published port while it started, and could not get it back: ${(err as Error).message}`;
        }
        return 'the container was taken off its network outside berth';
      }
      if (performance.now() >= graceEnds) return seen.reason;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/**
 * Thaws a container berth paused while it served and puts it back as a ready
 * slot at the address it had: one engine call, no inspect, no probe (when
 * that is enough: wake-plan.ts). Rejects as `unpause` does.
 */
export async function thawSlot(unpause: (id: string) => Promise<void>, spec: AppSpec, paused: Instance): Promise<Slot> {
  await unpause(paused.id);
  const slot = new Slot(paused.index, { ...paused, state: 'running' }, containerSpecHash(spec));
  slot.readyAtMs = performance.now();
  return slot;
}

/**
 * Starts the container berth last knew, or, when it is gone (removed behind
 * berth's back), makes a new one. Trying the known id first keeps a cold start
 * to a single engine call in the usual case.
 */
async function startExisting(runtime: Runtime, spec: AppSpec, index: number, deadline: number, existing?: Instance, signal?: AbortSignal): Promise<Instance> {
  // A Swarm start waits for its task: it must give up within the app's startTimeout, not the runtime's own bound.
  const bound = (): StartOptions => ({ timeoutMs: Math.max(deadline - performance.now(), 0), ...(signal ? { signal } : {}) });
  if (existing) {
    try {
      return await runtime.start(existing.id, bound());
    } catch (err) {
      // Gone, or made with powers its spec does not give (outside berth, under its labels): ensure makes it anew.
      if (!(err instanceof NotFoundError) && !(err instanceof ContainerPowersError)) throw err;
    }
  }
  const made = await runtime.ensure(spec, index);
  return runtime.start(made.id, bound());
}

export { OUT_OF_MEMORY } from './start-watch.js';

/** The lowest instance indexes not taken by `used`, so names stay short and are reused. */
export function freeIndexes(used: Iterable<number>, count: number): number[] {
  const taken = new Set(used);
  const out: number[] = [];
  for (let i = 0; out.length < count; i++) if (!taken.has(i)) out.push(i);
  return out;
}

/** Waits until a slot has nothing in flight, or `graceMs` passed. */
export async function drainSlot(slot: Slot, graceMs: number): Promise<void> {
  slot.draining = true;
  // Its WebSockets never end by themselves: they are told to go away, not waited on (a proxy worker's are told by the snapshot).
  tunnelsGoAway(slot.upstream);
  const deadline = performance.now() + graceMs;
  while (slot.inFlight > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}
