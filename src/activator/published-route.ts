import type { Instance } from '../runtime/runtime.js';

/**
 * Whether a container berth serves from still runs but can no longer be reached
 * where berth dials it. Pure.
 *
 * Taken off its network behind berth's back (`docker network disconnect`), a
 * container runs on with its published port gone (inspect lists no ports), and
 * every request sent there fails; connected again, the engine publishes it at a
 * new ephemeral port, so the old address is dead all the same. No container event
 * says either. Only the port is compared: a Swarm task's host is its node's
 * address, which may be written differently from one listing to the next.
 * A container that no longer runs is not this question: its exit is handled as one.
 */
export function routeLost(dialled: Instance['address'], now: Pick<Instance, 'state' | 'address'> | undefined): boolean {
  if (!now || now.state !== 'running' || !dialled) return false;
  return now.address?.port !== dialled.port;
}

/** What the app's status says when such an instance could not be brought back. */
export const ROUTE_LOST = 'lost its published port (taken off its network outside berth?)';

/** What the log and the app's status say of an instance edited behind berth's back (Instance.outdated), as it is brought back. */
export const CHANGED_OUTSIDE = 'was changed outside berth (docker service update)';
