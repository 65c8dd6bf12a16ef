import type { Logger } from 'pino';
import { messageOf } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import type { InstanceSet } from './instance-set.js';
import { drainSlot, type Slot } from './instance-slot.js';

/** What stopping and retiring instances needs. */
export interface StopContext {
  app: string;
  runtime: Runtime;
  logger: Logger;
  instances: InstanceSet;
  /** Waits until every proxy worker saw the change and reported its requests (see AppControllerDeps.quiesce). */
  quiesce?: () => Promise<void>;
}

/** Stops every container of the app (paused ones too) and keeps them, stopped, for the next start. */
export async function stopInstances(ctx: StopContext): Promise<void> {
  const instances = [...ctx.instances.takeSlots().map((s) => s.instance), ...ctx.instances.parked];
  await Promise.all(instances.map((i) => ctx.runtime.stop(i.id, { timeoutS: 10 }).catch((err: unknown) => ctx.logger.warn({ app: ctx.app, err: messageOf(err) }, 'stop failed'))));
  ctx.instances.setParked(instances.map((i) => ({ ...i, state: 'exited' as const, address: undefined })));
}

/**
 * Freezes the running containers (idleAction: pause). True when they are
 * paused; false when the engine refused, with the slots put back so the
 * caller can stop them instead.
 */
export async function pauseInstances(ctx: StopContext): Promise<boolean> {
  const slots = ctx.instances.takeSlots();
  try {
    await Promise.all(slots.map((s) => ctx.runtime.pause(s.instance.id)));
    ctx.instances.setParked([...slots.map((s) => ({ ...s.instance, state: 'paused' as const })), ...ctx.instances.parked]);
    // Frozen ready, they wake ready: the next wake may skip the inspects and the probe (wake-plan.ts).
    ctx.instances.markThawable(slots.filter((s) => s.available).map((s) => s.instance.id));
    return true;
  } catch (err) {
    ctx.logger.warn({ app: ctx.app, err: messageOf(err) }, 'pause failed; stopping instead');
    ctx.instances.setSlots(slots);
    return false;
  }
}

/** Takes one instance out of rotation, lets its requests finish (at most `drainMs`), then stops and removes its container. */
export async function retireInstance(ctx: StopContext, slot: Slot, why: string, drainMs: number): Promise<void> {
  ctx.instances.takeOutOfRotation(slot, 'draining');
  await ctx.quiesce?.();
  await drainSlot(slot, drainMs);
  ctx.instances.drop(slot);
  await ctx.runtime.remove(slot.instance.id).catch((err: unknown) => ctx.logger.warn({ app: ctx.app, err: messageOf(err) }, 'remove failed'));
  ctx.logger.info({ app: ctx.app, instance: slot.instance.name, why }, 'instance retired');
}
