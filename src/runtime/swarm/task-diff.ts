import type { RuntimeEvent } from '../runtime.js';
import type { SwarmTask } from './wire.js';

/** berth's services as one poll saw them: each one's app, and the task running it (if any). */
export interface TaskSnapshot {
  apps: ReadonlyMap<string, string>;
  running: ReadonlyMap<string, string>;
  /** Services changed behind berth's back (service-spec.ts drifted), by the version of the service read: each edit is told once. */
  changed?: ReadonlyMap<string, number>;
}

/**
 * What changed between two polls, as the events a container engine would have sent:
 * a service whose running task ended or was replaced (a crash, a drained node) `die`s,
 * one with a new running task `start`s (in that order, so a task that moved reads as a
 * death and a start), a service that is gone is `destroy`ed. A death carries the exit
 * code of the task that ended by itself, when `exitCodes` has it by task id (see
 * endedTasks), as a container's die event does: without it a crash read as a
 * container gone, was never counted towards a crash loop, and said no code. A
 * service that reads as edited behind berth's back at a version not seen so is
 * `changed`, told first: the edit is what replaced its task (the Swarm rolls an edit
 * out at once), and the core takes the instance out of rotation for its restart in
 * place when it hears it. Told after the die of the task the edit replaced, the die
 * read as the app's own exit: its last instance gone, the app showed `stopped`, then
 * `running` again at the start, until the repair. Pure.
 */
export function diffTasks(before: TaskSnapshot, after: TaskSnapshot, time: Date, exitCodes: ReadonlyMap<string, number> = new Map()): RuntimeEvent[] {
  const died: RuntimeEvent[] = [];
  const started: RuntimeEvent[] = [];
  const destroyed: RuntimeEvent[] = [];
  for (const [service, task] of before.running) {
    if (after.running.get(service) === task) continue;
    const exitCode = exitCodes.get(task);
    died.push({ kind: 'die', app: before.apps.get(service) ?? '', instanceId: service, time, ...(exitCode === undefined ? {} : { exitCode }) });
  }
  for (const [service, task] of after.running) {
    if (before.running.get(service) !== task) started.push({ kind: 'start', app: after.apps.get(service) ?? '', instanceId: service, time });
  }
  for (const [service, app] of before.apps) {
    if (!after.apps.has(service)) destroyed.push({ kind: 'destroy', app, instanceId: service, time });
  }
  const changed: RuntimeEvent[] = [];
  for (const [service, version] of after.changed ?? []) {
    if (before.changed?.get(service) !== version) changed.push({ kind: 'changed', app: after.apps.get(service) ?? '', instanceId: service, time });
  }
  return [...changed, ...died, ...destroyed, ...started];
}

/** The tasks that ran at the last poll and no longer do: the ones whose end diffTasks reports. Pure. */
export function endedTasks(before: TaskSnapshot, after: TaskSnapshot): string[] {
  return [...before.running].filter(([service, task]) => after.running.get(service) !== task).map(([, task]) => task);
}

/**
 * The exit code of a task that ended by itself (its container exited: `failed`, or
 * `complete` with 0); undefined for one the Swarm shut down (a move, a scale to 0,
 * an update), whose end is not the app's. Pure.
 */
export function exitCodeOf(task: Pick<SwarmTask, 'Status'> | undefined): number | undefined {
  if (!task || (task.Status.State !== 'failed' && task.Status.State !== 'complete')) return undefined;
  return task.Status.ContainerStatus?.ExitCode;
}
