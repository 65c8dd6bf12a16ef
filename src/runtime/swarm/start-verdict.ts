import { formatDuration } from '../../spec/duration.js';
import { LABEL_NODE, replicasOf } from './service-spec.js';
import type { SwarmService, SwarmTask } from './wire.js';

/**
 * How long a wake lets the Swarm's scheduler say "no suitable node" before it gives
 * up. The scheduler retries by itself, so one refusal may be a node that is just
 * coming back; a refusal that lasts means no node can take the task (a constraint
 * none meets, a pinned node drained or down, reservations past every node), and
 * waiting out the whole task start time would only hold every request for nothing.
 */
export const UNSCHEDULABLE_GRACE_MS = 3_000;

/**
 * The scheduler's refusal of a task the wake waits for: the Swarm keeps such a task
 * `pending` with the reason in its `Err`. One the wake asked for (not in `before`),
 * or one from before that the service still wants run: the Swarm made it itself when
 * the task that ran was shut down (its node drained while the app ran, which for an
 * app pinned to that node leaves it pending for good). Left out, such a wake waited
 * out its whole start timeout and then said no task was created. Undefined when
 * every such task was placed, or has no reason yet. Pure.
 */
export function unschedulable(tasks: readonly SwarmTask[], before: ReadonlySet<string>): SwarmTask | undefined {
  return tasks.find((t) => awaited(t, before) && t.Status.State === 'pending' && Boolean(t.Status.Err));
}

/** A task a wake waits for: one it asked for, or one from before the service still wants run (see unschedulable). Pure. */
export function awaited(task: SwarmTask, before: ReadonlySet<string>): boolean {
  return !before.has(task.ID) || task.DesiredState === 'running';
}

/**
 * Why the wake failed, for the app's status: the scheduler's words, and for an app
 * with a volume the node it is pinned to (its data lives there, so no other node may
 * take it: README "Swarm", limits), by the name `nodeName` gives its id. Pure.
 */
export function unschedulableReason(service: Pick<SwarmService, 'Spec'>, task: SwarmTask, nodeName: (nodeId: string) => string = (id) => id): string {
  const pinned = service.Spec.Labels?.[LABEL_NODE];
  const hint = pinned ? `; the app has a volume and runs only on node ${nodeName(pinned)}: is that node drained, paused or down?` : '';
  return `the swarm cannot place its task: ${task.Status.Err}${hint}`;
}

/**
 * Why a wake cannot go on because of a change made outside berth while it waited for
 * the task: the service was removed (`docker service rm`), or asks for no task any
 * more (`docker service scale …=0`). Either way no task will run, and the wake would
 * have waited out the whole task start time. Undefined while the service still asks
 * for one. Pure.
 */
export function calledOff(now: Pick<SwarmService, 'Spec'> | undefined): string | undefined {
  if (!now) return 'the service was removed outside berth (docker service rm) while its task started';
  if (replicasOf(now.Spec) === 0) return 'the service was scaled to 0 outside berth (docker service scale) while its task started; the next request wakes it again';
  return undefined;
}

/** How long a wake waits for its task, and whose bound that is. */
export interface TaskWait {
  ms: number;
  /** The app's startTimeout (what is left of it) is the tighter bound, not the runtime's swarm task start time. */
  byStartTimeout: boolean;
}

/**
 * The tighter of the runtime's bound on a task start (swarm.taskStartMs, 2 min) and
 * what is left of the app's startTimeout: an app that says 10 s must not hold its
 * requests, and show `starting`, for two minutes while the swarm places nothing. Pure.
 */
export function taskWait(taskStartMs: number, timeoutMs: number | undefined): TaskWait {
  if (timeoutMs === undefined || timeoutMs >= taskStartMs) return { ms: taskStartMs, byStartTimeout: false };
  return { ms: Math.max(timeoutMs, 0), byStartTimeout: true };
}

/**
 * How long a wake that ran out of time waited, in the words of its message. It had
 * what was left of the app's startTimeout when it began: said as "(5s left of it)"
 * after the fact, it read as if time were still left, a fraction of a millisecond
 * came out as "299.73ms", a bound of 0 as "0ms left", and the runtime's own bound as
 * "120000 ms". Whole milliseconds below a second, whole seconds above. Pure.
 */
export function waitedFor(wait: TaskWait, taskStartMs: number): string {
  if (!wait.byStartTimeout) return `within ${roundedDuration(taskStartMs)} (the longest berth waits for a task)`;
  if (Math.round(wait.ms) <= 0) return "in time: nothing was left of the app's startTimeout";
  return `within the ${roundedDuration(wait.ms)} that were left of the app's startTimeout`;
}

function roundedDuration(ms: number): string {
  return formatDuration(ms < 999.5 ? Math.round(ms) : Math.round(ms / 1000) * 1000);
}
