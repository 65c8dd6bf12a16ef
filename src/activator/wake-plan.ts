import { EngineUnavailableError } from '../errors.js';
import type { Instance } from '../runtime/runtime.js';

/**
 * What berth knows, without asking the engine, about the container a wake
 * would bring back up.
 */
export interface WakeFacts {
  /** The parked container the wake reuses, as berth last knew it; undefined when a new one is made. */
  existing: Pick<Instance, 'state' | 'address'> | undefined;
  /**
   * berth paused it itself while it was in rotation (ready, neither draining
   * nor failing its health checks), and no engine event about it came since.
   */
  thawable: boolean;
  /** The runtime thaws with one call (Runtime.unpause); Swarm's pause is a stop. */
  canUnpause: boolean;
}

/**
 * - unpause-only: one engine call, then traffic. The container was ready when
 *   it was frozen and a thaw gives it back as it was, sockets and all, at the
 *   address it had, so the inspects around the call and the readiness probe
 *   would only learn what berth knows already (about a fifth of a wake's time).
 * - full: inspect, start or unpause, inspect again for the address, probe.
 */
export type WakePlan = 'unpause-only' | 'full';

/** How to wake a parked container; pure. */
export function wakePlan(facts: WakeFacts): WakePlan {
  const existing = facts.existing;
  if (!existing || !facts.thawable || !facts.canUnpause) return 'full';
  return existing.state === 'paused' && existing.address !== undefined ? 'unpause-only' : 'full';
}

/**
 * After a thaw failed. The engine said no (404: removed, 409: no longer paused,
 * so stopped, restarted or unpaused behind berth's back): the container is not
 * as berth left it, and the full path finds out how it is and starts it, or
 * makes a new one. An engine that does not answer would not answer the full
 * path either: asking again would only double the wait of every held request.
 */
export function afterFailedThaw(err: unknown): 'full' | 'fail' {
  return err instanceof EngineUnavailableError ? 'fail' : 'full';
}
