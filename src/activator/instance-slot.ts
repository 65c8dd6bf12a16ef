import { NotFoundError, RuntimeError } from '../errors.js';
import type { Candidate } from '../proxy/balancer/balancer-policy.js';
import type { Upstream } from '../proxy/upstream.js';
import type { Instance, Runtime } from '../runtime/runtime.js';
import { containerSpecHash } from '../spec/hash.js';
import type { AppSpec } from '../spec/types.js';
import { silentReason, waitUntilHealthy, waitUntilReady } from './readiness.js';
import { StartFailedError } from './start-errors.js';

/**
 * One container of an app as the controller tracks it: where it is, which
 * spec it runs, and — once ready — the upstream the proxy dials. A slot is
 * also the balancer's candidate, so the policy reads live counters without a
 * copy per request.
 */
export class Slot implements Candidate {
  upstream: Upstream;
  readyAtMs = 0;
  /** Out of rotation: draining before a stop, or failing its health checks. */
  draining = false;
  unhealthy = false;
  healthFails = 0;
  healthOks = 0;

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
 * probe. Throws StartFailedError with the reason otherwise.
 */
export async function startSlot(
  runtime: Runtime,
  spec: AppSpec,
  index: number,
  deadline: number,
  existing?: Instance,
  onStarted?: (running: Instance) => void,
  signal?: AbortSignal,
): Promise<Slot> {
  const running = await startExisting(runtime, spec, index, existing);
  onStarted?.(running);
  if (!running.address) throw new RuntimeError(`container ${running.name} has no published port ${spec.port}`);
  const result =
    running.health !== 'none'
      ? await waitUntilHealthy(() => runtime.inspect(running.id), deadline, signal)
      : await waitUntilReady(running.address, spec.readiness, { deadline, signal, stillStarting: () => exitedReason(runtime, running.id) });
  if (!result.ready) {
    const reason = result.silent ? silentReason(result.reason, spec.port, await runtime.imagePorts(spec.image).catch(() => undefined)) : result.reason;
    throw new StartFailedError(spec.name, reason, result.reason.startsWith('not ready in time'));
  }
  const slot = new Slot(index, running, containerSpecHash(spec));
  slot.readyAtMs = performance.now();
  return slot;
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
async function startExisting(runtime: Runtime, spec: AppSpec, index: number, existing?: Instance): Promise<Instance> {
  if (existing) {
    try {
      return await runtime.start(existing.id);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }
  return runtime.start((await runtime.ensure(spec, index)).id);
}

/** How a container the kernel killed for its memory is told (a bare 137 reads like any kill). */
export const OUT_OF_MEMORY = 'the container ran out of memory and was killed';

export async function exitedReason(runtime: Runtime, id: string): Promise<string | undefined> {
  const now = await runtime.inspect(id).catch(() => undefined);
  if (!now) return 'the container disappeared';
  if (now.oomKilled) return `${OUT_OF_MEMORY} (code ${now.exitCode ?? 137}); give it more with resources.memory`;
  if (now.state === 'exited' || now.state === 'dead') return `the container exited with code ${now.exitCode ?? '?'}`;
  return undefined;
}

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
  const deadline = performance.now() + graceMs;
  while (slot.inFlight > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}
