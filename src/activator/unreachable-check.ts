import type { Instance, Runtime } from '../runtime/runtime.js';
import { mayEject } from './health-checker.js';
import { whetherGone } from './instance-failure.js';
import type { InstanceSet } from './instance-set.js';
import type { Slot } from './instance-slot.js';

/** How long the engine is asked whether an unreachable instance has exited: it records an exit a few milliseconds after the fact. */
const UNREACHABLE_CHECK_MS = 500;

/** Consecutive connection failures that take an instance out of rotation (passive health). */
export const PASSIVE_EJECT_AFTER = 3;

/** What an app does about an instance the proxy could not reach, once the engine was asked (see unreachableOutcome). */
export type UnreachableOutcome =
  /** berth moved on meanwhile (the die event came, or the instance was replaced or stopped). */
  | { kind: 'handled' }
  /** The engine says it is gone: told as its exit, with what the engine knows of it. */
  | { kind: 'exited'; exitCode: number | undefined; engineError: string | undefined }
  /** It runs but keeps failing, and no other instance is out: restarted in place. */
  | { kind: 'eject' }
  /** It runs: the next failure asks again. */
  | { kind: 'wait' };

/**
 * From the engine's answer (whetherGone), the connection failures in a row and whether this instance may
 * leave the rotation now (mayEject: one out at a time, as for the health checks; when every instance
 * refuses at once, the app overloaded, they were all restarted together and the app served nothing). Pure.
 */
export function unreachableOutcome(gone: Partial<Instance> | false | 'handled', failures: number, mayLeave: boolean): UnreachableOutcome {
  if (gone === 'handled') return { kind: 'handled' };
  if (gone) return { kind: 'exited', exitCode: gone.exitCode, engineError: gone.engineError };
  return failures >= PASSIVE_EJECT_AFTER && mayLeave ? { kind: 'eject' } : { kind: 'wait' };
}

/** What the check needs of its app. */
export interface UnreachableHost {
  runtime: Runtime;
  instances: InstanceSet;
  /** The app serves (state running). */
  running: () => boolean;
  /** The engine says the instance is gone (AppController.instanceExited). */
  exited: (instanceId: string, exitCode: number | undefined, engineError: string | undefined) => void;
  /** Takes the instance out of rotation and restarts it in place (AppController's recovery). */
  recover: (slot: Slot, why: string) => void;
}

/**
 * The proxy could not reach an instance (refused, or closed before any answer). An app that quits by
 * itself (seed 000) races the engine's die event, so the engine is asked, for a short while, whether
 * the instance is gone. A live instance that keeps failing is ejected (passive health).
 */
export class UnreachableChecks {
  /** The engine's look at an instance, under way, by slot. */
  private readonly checks = new Map<Slot, Promise<boolean>>();

  constructor(private readonly host: UnreachableHost) {}

  /** Says whether the instance is handled (gone, or berth moved on); false while it runs. */
  check(instanceId: string): Promise<boolean> {
    const slot = this.host.instances.slotOf(instanceId);
    // Already handled: the die event came, or the instance was replaced or stopped.
    if (!slot || !this.host.running()) return Promise.resolve(true);
    // One look at the engine per instance at a time, shared by every request that failed on it meanwhile: each
    // polled the engine on its own for the whole look (twenty inspects), so a burst of requests against an instance
    // that refuses became a storm of engine calls, and its exit was handled once per request.
    let answer = this.checks.get(slot);
    if (answer === undefined) {
      answer = this.look(slot, instanceId).finally(() => this.checks.delete(slot));
      this.checks.set(slot, answer);
    }
    return answer;
  }

  private async look(slot: Slot, instanceId: string): Promise<boolean> {
    const { instances } = this.host;
    const gone = await whetherGone(this.host.runtime, slot, () => instances.has(slot) && this.host.running(), UNREACHABLE_CHECK_MS);
    const outcome = unreachableOutcome(gone, slot.upstream.failures, mayEject(slot, instances.slots));
    switch (outcome.kind) {
      case 'handled':
        return true;
      case 'exited':
        this.host.exited(instanceId, outcome.exitCode, outcome.engineError);
        return true;
      case 'eject':
        this.host.recover(slot, `${slot.upstream.failures} connection failures in a row`);
        return false;
      case 'wait':
        return false;
    }
  }
}
