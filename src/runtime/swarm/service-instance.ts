import type { Instance } from '../runtime.js';
import { labelledInstance } from '../labelled-instance.js';
import type { InstanceHealth } from '../runtime.js';
import { LABEL_HEALTHCHECK, drifted, replicasOf } from './service-spec.js';
import { unschedulableReason } from './start-verdict.js';
import { ENDED, type SwarmService, type SwarmTask } from './wire.js';

/**
 * The task that serves the service now: the oldest one running that the Swarm means
 * to keep. Usually there is one. There are more while a start-first update runs the
 * new task beside the old (until the old is told to shut down, which leaves it out),
 * or when someone ran `docker service scale …=3`: the task berth already dials then
 * stays the one, where the newest would change at every task that came up, each
 * change read as the instance dying and starting again (the app showed stopped,
 * "its container is gone", while it served). Pure.
 */
export function runningTask(serviceId: string, tasks: readonly SwarmTask[]): SwarmTask | undefined {
  const running = tasks.filter((t) => t.ServiceID === serviceId && t.Status.State === 'running' && t.DesiredState === 'running');
  const created = (t: SwarmTask) => t.CreatedAt ?? t.Status.Timestamp ?? '';
  return running.sort((a, b) => created(a).localeCompare(created(b)))[0];
}

/** The newest task of the service that ran and ended by itself (failed, or completed), or was rejected. */
function lastDied(serviceId: string, tasks: readonly SwarmTask[]): SwarmTask | undefined {
  const died = tasks.filter((t) => t.ServiceID === serviceId && (t.Status.State === 'failed' || t.Status.State === 'rejected' || t.Status.State === 'complete'));
  return died.sort((a, b) => (b.Status.Timestamp ?? '').localeCompare(a.Status.Timestamp ?? ''))[0];
}

/** The task the service wants run and the scheduler keeps pending, saying why (its `Err`: "no suitable node …"). Pure. */
export function heldBack(serviceId: string, tasks: readonly SwarmTask[]): SwarmTask | undefined {
  return tasks.find((t) => t.ServiceID === serviceId && t.DesiredState === 'running' && t.Status.State === 'pending' && Boolean(t.Status.Err));
}

/** The port the node published for the task's `targetPort`, in host mode. */
export function publishedPort(task: SwarmTask, targetPort: number): number | undefined {
  const ports = task.Status.PortStatus?.Ports ?? [];
  const port = ports.find((p) => p.TargetPort === targetPort && (p.PublishedPort ?? 0) > 0) ?? ports.find((p) => (p.PublishedPort ?? 0) > 0);
  return port?.PublishedPort;
}

/**
 * A berth service and its tasks → the Instance the core sees. A service asked for 0
 * replicas is a stopped instance ('exited'); one asked to run whose task is not running
 * yet (placed, starting, moving off a drained node) is 'restarting', or 'exited' when the
 * newest task of those given died (given all of the service's tasks, not only the current
 * ones, a task that crashed reads as a container that exited); with a running task it is
 * 'running', at the task's node address and published port. One whose task the scheduler
 * holds back (no node can take it: the node of an app with a volume drained while it ran)
 * is 'exited', with the scheduler's reason as its engineError: read as 'restarting', as
 * if it were coming back, the app showed running, the resync let it be, and a request
 * dialled the address of the task that was gone and got a proxy error. `nameOf` names a
 * node in that reason. Pure.
 */
export function toInstance(service: SwarmService, tasks: readonly SwarmTask[], addressOf: (nodeId: string) => string | undefined, nameOf?: (nodeId: string) => string): Instance {
  const instance = labelledInstance(service.ID, service.Spec.Name, service.Spec.Labels ?? {}, 'exited', 'none');
  // Edited by `docker service update`: its labels still say the app's spec, its task does not run it.
  if (drifted(service.Spec)) instance.outdated = true;
  if (replicasOf(service.Spec) === 0) return instance;
  const task = runningTask(service.ID, tasks);
  const host = task?.NodeID ? addressOf(task.NodeID) : undefined;
  const port = task ? publishedPort(task, targetPortOf(service)) : undefined;
  instance.health = taskHealth(service, tasks, task);
  const held = task ? undefined : heldBack(service.ID, tasks);
  if (held) return { ...instance, state: 'exited', engineError: unschedulableReason(service, held, nameOf) };
  if (!task) {
    // The task died and none runs (the Swarm may be about to replace it): as a container would, it reads exited, with its code.
    const died = lastDied(service.ID, tasks);
    if (died) return { ...instance, state: 'exited', ...(died.Status.ContainerStatus?.ExitCode === undefined ? {} : { exitCode: died.Status.ContainerStatus.ExitCode }) };
  }
  if (!task || !host || !port) return { ...instance, state: 'restarting' };
  instance.state = 'running';
  instance.address = { host, port };
  if (task.Status.Timestamp) instance.startedAt = new Date(task.Status.Timestamp);
  return instance;
}

/**
 * The health of a service's instance whose image has a HEALTHCHECK (LABEL_HEALTHCHECK;
 * 'none' without one, as a container without one). The Swarm runs the check but
 * tells it only through the task's state: it keeps a task `starting` until the check
 * passes, and stops it (and starts another) when the check fails. So a running task
 * is healthy, and one the service still wants that is not running yet is starting;
 * with neither there is nothing to be healthy. An unhealthy task is not seen as such:
 * the Swarm replaces it at once, which reads as the task ending. Pure.
 */
export function taskHealth(service: Pick<SwarmService, 'ID' | 'Spec'>, tasks: readonly SwarmTask[], running: SwarmTask | undefined): InstanceHealth {
  if (service.Spec.Labels?.[LABEL_HEALTHCHECK] !== 'image') return 'none';
  if (running) return 'healthy';
  const coming = tasks.some((t) => t.ServiceID === service.ID && t.DesiredState === 'running' && !ENDED.has(t.Status.State));
  return coming ? 'starting' : 'none';
}

export function targetPortOf(service: SwarmService): number {
  return service.Spec.EndpointSpec?.Ports?.[0]?.TargetPort ?? 0;
}
