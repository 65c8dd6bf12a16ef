import type { RuntimeEvent } from '../runtime.js';

/** berth's services as one poll saw them: each one's app, and the task running it (if any). */
export interface TaskSnapshot {
  apps: ReadonlyMap<string, string>;
  running: ReadonlyMap<string, string>;
}

/**
 * What changed between two polls, as the events a container engine would have sent:
 * a service whose running task ended or was replaced (a crash, a drained node) `die`s,
 * one with a new running task `start`s (in that order, so a task that moved reads as a
 * death and a start), a service that is gone is `destroy`ed. Pure.
 */
export function diffTasks(before: TaskSnapshot, after: TaskSnapshot, time: Date): RuntimeEvent[] {
  const died: RuntimeEvent[] = [];
  const started: RuntimeEvent[] = [];
  const destroyed: RuntimeEvent[] = [];
  for (const [service, task] of before.running) {
    if (after.running.get(service) !== task) died.push({ kind: 'die', app: before.apps.get(service) ?? '', instanceId: service, time });
  }
  for (const [service, task] of after.running) {
    if (before.running.get(service) !== task) started.push({ kind: 'start', app: after.apps.get(service) ?? '', instanceId: service, time });
  }
  for (const [service, app] of before.apps) {
    if (!after.apps.has(service)) destroyed.push({ kind: 'destroy', app, instanceId: service, time });
  }
  return [...died, ...destroyed, ...started];
}
