import type { AppStatus } from '../activator/app-status.js';

/** What an app's containers are doing, for what it costs. */
export type UsageKind = 'running' | 'paused' | 'idle';

/** The part of an app's status the accounting looks at. */
export type UsageStatus = Pick<AppStatus, 'name' | 'state' | 'replicas' | 'readyInstances'>;

/** How an app in some state is counted: which kind of time, and for how many containers. */
export interface UsageShare {
  kind: UsageKind;
  /** Containers that accrue this kind of time (container-seconds = seconds × instances). */
  instances: number;
}

/**
 * Classifies a status for accounting:
 * - running and stopping: the containers are up and cost; `replicas` of them
 *   run while the app is up (readyInstances when more are ready, as during a
 *   rolling update). State events are not sent when one more replica becomes
 *   ready, so the replica count is the better figure between events.
 * - starting: one container is up (being started and probed; the other
 *   replicas follow once it is ready), so it costs like running.
 * - paused: the containers are frozen (memory held, no CPU); counted apart.
 * - stopped, failed, crashloop: idle, nothing runs. Counted per declared
 *   replica, so running + paused + idle is what the app would have used had it
 *   run always on.
 */
export function usageShare(status: UsageStatus): UsageShare {
  const replicas = Math.max(1, status.replicas || 0);
  switch (status.state) {
    case 'running':
    case 'stopping':
      return { kind: 'running', instances: Math.max(replicas, status.readyInstances || 0) };
    case 'starting':
      return { kind: 'running', instances: Math.max(1, status.readyInstances || 0) };
    case 'paused':
      return { kind: 'paused', instances: replicas };
    default:
      return { kind: 'idle', instances: replicas };
  }
}

/**
 * How the time between gateway start and an app's first state event is
 * counted when that event comes during start-up: a start means the app was
 * not running before it; any other state (adopted running or paused, stopped)
 * held since the gateway started.
 */
export function shareBefore(status: UsageStatus): UsageShare {
  if (status.state === 'starting') return { kind: 'idle', instances: Math.max(1, status.replicas || 0) };
  return usageShare(status);
}
