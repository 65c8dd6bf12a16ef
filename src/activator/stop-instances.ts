import type { Logger } from 'pino';
import { messageOf } from '../errors.js';
import type { Instance, Runtime } from '../runtime/runtime.js';
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
  /** A container the engine did not stop (the caller retries it and decides what to log). Absent: logged here. */
  stopFailed?: (instance: Instance, err: unknown) => void;
}

/** How long an app has to exit after SIGTERM when berth stops it, before it is killed. */
export const STOP_TIMEOUT_S = 10;

/**
 * Stops every container of the app (paused ones too) and keeps them, stopped, for
 * the next start. Answers what the app should hear about the stop: an app that
 * ignores SIGTERM is killed after STOP_TIMEOUT_S, losing what it had not saved,
 * and every stop of it takes that long; undefined when each exited when asked.
 */
export async function stopInstances(ctx: StopContext): Promise<string | undefined> {
  const instances = [...ctx.instances.takeSlots().map((s) => s.instance), ...ctx.instances.parked];
  const killed: string[] = [];
  const stopped = await Promise.all(
    instances.map(async (i): Promise<Instance> => {
      try {
        if ((await ctx.runtime.stop(i.id, { timeoutS: STOP_TIMEOUT_S }))?.killed) killed.push(i.name);
        return { ...i, state: 'exited', address: undefined };
      } catch (err) {
        // The engine did not stop it (it did not answer, or refused): it is kept as berth last knew it, running
        // or paused, so the app's stop can be tried again. Parked as exited, it ran on while the app showed stopped.
        if (ctx.stopFailed) ctx.stopFailed(i, err);
        else ctx.logger.warn({ app: ctx.app, instance: i.name, err: messageOf(err) }, 'stop failed');
        return i;
      }
    }),
  );
  ctx.instances.setParked(stopped);
  if (killed.length === 0) return undefined;
  const note = killedNote(killed.sort(), STOP_TIMEOUT_S);
  ctx.logger.warn({ app: ctx.app, instances: killed }, note);
  return note;
}

/** The words for containers killed at a stop because they ignored SIGTERM. Pure. */
export function killedNote(names: readonly string[], timeoutS: number): string {
  const who = names.length === 1 ? `its container ${names[0]} did` : `its containers ${names.join(', ')} did`;
  return `${who} not exit within ${timeoutS} s of SIGTERM and ${names.length === 1 ? 'was' : 'were'} killed; the app should exit when it gets SIGTERM`;
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
