import type { Logger } from 'pino';
import { messageOf } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import type { AppSpec } from '../spec/types.js';
import { drainSlot, freeIndexes, Slot, startSlot } from './instance-slot.js';

export interface RolloutContext {
  runtime: Runtime;
  logger: Logger;
  /** The app's instances now (in rotation or draining). */
  current: () => readonly Slot[];
  /** Swaps the instance list the balancer sees, atomically. */
  setSlots: (slots: readonly Slot[]) => void;
  drainMs: number;
  /** Waits until every proxy worker has seen the switch and reported its requests (see AppControllerDeps.quiesce). */
  quiesce?: () => Promise<void>;
  /**
   * Why the launch policy in force now refuses a spec (launch-policy.ts), or undefined.
   * Asked before every container a rollout makes, the old revision's in a rollback too:
   * the new revision may have been accepted by another gateway with a wider policy,
   * and the old one before this gateway's policy narrowed.
   */
  launchRefusal: (spec: AppSpec) => string | undefined;
}

export type RolloutResult = { ok: true } | { ok: false; reason: string };

/**
 * Replaces the running instances by instances of `spec` without dropping a
 * request. Blue-green starts every new instance beside the old ones, switches
 * traffic only once all are ready, then drains and removes the old ones.
 * Rolling does the same `batchSize` instances at a time. If a new instance
 * does not become ready, the new ones are removed and the old ones keep
 * serving: traffic never leaves the old revision until the new one is ready.
 */
export async function replaceInstances(ctx: RolloutContext, spec: AppSpec, oldSpec: AppSpec, replicas: number): Promise<RolloutResult> {
  if (replacedInPlace(spec, oldSpec)) return replaceInPlace(ctx, spec, oldSpec);
  const batch = spec.strategy.type === 'rolling' ? Math.max(1, spec.strategy.batchSize) : replicas;
  let remaining = ctx.current().filter((s) => !s.draining);
  let started = 0;
  const fresh: Slot[] = [];
  while (started < replicas) {
    const count = Math.min(batch, replicas - started);
    const indexes = freeIndexes(ctx.current().map((s) => s.index), count);
    const deadline = performance.now() + spec.startTimeoutMs;
    const results = await Promise.allSettled(indexes.map((index) => startNew(ctx, spec, index, deadline)));
    const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      // Roll back: the new revision never served in this batch; earlier batches did, so put old instances back first.
      await Promise.all(ok.map((s) => ctx.runtime.remove(s.instance.id).catch(() => undefined)));
      await rollBack(ctx, fresh, oldSpec);
      return { ok: false, reason: messageOf(failed.reason) };
    }
    fresh.push(...ok);
    started += ok.length;
    // Switch: the new instances join, the same number of old ones leave the rotation.
    const leaving = remaining.slice(0, ok.length);
    remaining = remaining.slice(ok.length);
    for (const old of leaving) old.draining = true;
    ctx.setSlots([...ctx.current().filter((s) => !leaving.includes(s)), ...ok, ...leaving]);
    await retire(ctx, leaving);
  }
  // Fewer replicas than before: the old ones left over go too.
  for (const old of remaining) old.draining = true;
  ctx.setSlots(ctx.current());
  await retire(ctx, remaining);
  return { ok: true };
}

/**
 * An instance on the host network listens on the host's port itself: a new one
 * beside the old could not bind it, and the old one would answer its readiness
 * probe (the runtime refuses to start it for that reason). Such an app (one
 * instance at most) is replaced in place.
 */
export function replacedInPlace(spec: AppSpec, oldSpec: AppSpec): boolean {
  return spec.security.hostNetwork && oldSpec.security.hostNetwork && spec.port === oldSpec.port;
}

/**
 * Stops the old instance, then starts the new one where it listened: requests
 * arriving meanwhile wait for it (bounded by the start timeout) as while every
 * instance is unhealthy, so none is dropped, though they wait out a start. A
 * new revision that does not get ready is removed and the old container (kept
 * until then) started again.
 */
async function replaceInPlace(ctx: RolloutContext, spec: AppSpec, oldSpec: AppSpec): Promise<RolloutResult> {
  const old = ctx.current().filter((s) => !s.draining);
  // Chosen while the old still hold theirs: its container keeps its name until it is removed.
  const [index] = freeIndexes(ctx.current().map((s) => s.index), 1);
  for (const slot of old) slot.draining = true;
  ctx.setSlots(ctx.current());
  await ctx.quiesce?.();
  await Promise.all(old.map((slot) => drainSlot(slot, ctx.drainMs)));
  const stops = await Promise.allSettled(old.map((slot) => ctx.runtime.stop(slot.instance.id)));
  const notStopped = stops.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (notStopped) {
    // Still running where the new one would listen: it serves on, and the update is refused.
    for (const slot of old) slot.draining = false;
    ctx.setSlots(ctx.current());
    return { ok: false, reason: `the old instance could not be stopped to make room on the host's port ${spec.port}: ${messageOf(notStopped.reason)}` };
  }
  ctx.setSlots(ctx.current().filter((s) => !old.includes(s)));
  try {
    const fresh = await startNew(ctx, spec, index!, performance.now() + spec.startTimeoutMs);
    ctx.setSlots([...ctx.current(), fresh]);
  } catch (err) {
    const deadline = performance.now() + oldSpec.startTimeoutMs;
    const restarted = await Promise.allSettled(old.map((slot) => startSlot(ctx.runtime, oldSpec, slot.index, deadline, slot.instance)));
    ctx.setSlots([...ctx.current(), ...restarted.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))]);
    for (const r of restarted) if (r.status === 'rejected') ctx.logger.warn({ app: spec.name, err: messageOf(r.reason) }, 'the old instance did not start again after a failed update');
    return { ok: false, reason: messageOf(err) };
  }
  await Promise.all(old.map((slot) => ctx.runtime.remove(slot.instance.id).catch((err: unknown) => ctx.logger.warn({ instance: slot.instance.name, err: messageOf(err) }, 'remove failed'))));
  return { ok: true };
}

/**
 * Creates and starts one instance of `spec` and waits until it is ready. One
 * that fails is removed at once: left behind, a revision that never got ready
 * would keep running outside the rotation, or lie about as an exited
 * container holding the index's name.
 */
async function startNew(ctx: RolloutContext, spec: AppSpec, index: number, deadline: number): Promise<Slot> {
  const refusal = ctx.launchRefusal(spec);
  if (refusal) throw new Error(refusal);
  const created = await ctx.runtime.ensure(spec, index);
  try {
    return await startSlot(ctx.runtime, spec, index, deadline, created);
  } catch (err) {
    await ctx.runtime.remove(created.id).catch((removeErr: unknown) => ctx.logger.warn({ instance: created.name, err: messageOf(removeErr) }, 'remove failed'));
    throw err;
  }
}

async function retire(ctx: RolloutContext, slots: Slot[]): Promise<void> {
  await ctx.quiesce?.();
  await Promise.all(
    slots.map(async (slot) => {
      await drainSlot(slot, ctx.drainMs);
      ctx.setSlots(ctx.current().filter((s) => s !== slot));
      await ctx.runtime.remove(slot.instance.id).catch((err: unknown) => ctx.logger.warn({ instance: slot.instance.name, err: messageOf(err) }, 'remove failed'));
    }),
  );
}

/**
 * A rolling update failed after some batches had already switched: instances
 * of the old spec are started again in their place, and only once they are
 * ready do the new ones leave. If even that fails, the new ones keep serving
 * rather than leave the app with none.
 */
async function rollBack(ctx: RolloutContext, served: Slot[], oldSpec: AppSpec): Promise<void> {
  if (served.length === 0) return;
  const indexes = freeIndexes(ctx.current().map((s) => s.index), served.length);
  const deadline = performance.now() + oldSpec.startTimeoutMs;
  try {
    const restored = await Promise.all(indexes.map((index) => startNew(ctx, oldSpec, index, deadline)));
    for (const s of served) s.draining = true;
    ctx.setSlots([...ctx.current().filter((s) => !served.includes(s)), ...restored, ...served]);
    await retire(ctx, served);
  } catch (err) {
    ctx.logger.warn({ err: messageOf(err) }, 'rolling back failed; the instances already updated keep serving');
  }
}
