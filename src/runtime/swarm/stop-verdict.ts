import { ENDED, type SwarmTask } from './wire.js';

/**
 * The tasks a stop still waits for: those not ended (nor never placed) whose node can
 * still report their end. A node that is down (its dockerd stopped, a partition)
 * reports nothing until it is back, so its task reads `running` with desired state
 * `shutdown` for as long: the stop waited out its whole bound for it and failed, and
 * the app showed a stop error, though the scale to 0 was all there was to do (the
 * node stops the task when it comes back, and berth no longer dials it). Pure.
 */
export function stillStopping(tasks: readonly SwarmTask[], nodeDown: (nodeId: string) => boolean): SwarmTask[] {
  return tasks.filter((t) => !ENDED.has(t.Status.State) && t.Status.State !== 'new' && t.Status.State !== 'pending' && !(t.NodeID && nodeDown(t.NodeID)));
}
