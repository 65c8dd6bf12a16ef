import type { Logger } from 'pino';
import type { Runtime } from '../runtime/runtime.js';
import type { DockerPolicy, WaitingPageText } from '../spec/types.js';
import type { AppStatus } from './app-status.js';
import type { WakeDependencies } from './dependency-hold.js';
import type { IdleStopSlots } from './idle-stop-slots.js';
import type { KeepFailure } from './kept-failure.js';
import type { StartBudget } from './start-budget.js';
import type { StopRetrySchedule } from './stop-retry.js';

/** Gateway-wide defaults an app falls back on; they change on reload. */
export interface AppDefaults {
  idleTimeoutMs: number;
  queueSize: number;
  waitingPage: WaitingPageText;
  /** The launch policy in force now; re-checked at every start, since it may have narrowed since the app was accepted. */
  policy: DockerPolicy;
}

export interface AppControllerDeps {
  runtime: Runtime;
  logger: Logger;
  defaults: () => AppDefaults;
  onChange: (status: AppStatus) => void;
  /** Wakes the apps this one depends on, in order, and holds them up until `release` (returned) is called. */
  wakeDependencies?: WakeDependencies;
  /** The app's ready instances may have changed (proxy workers are sent them). */
  onReadyChange?: (app: string) => void;
  /**
   * A barrier, with proxy workers: resolves once every worker has stopped
   * choosing the app's instances by itself and has reported what it has in
   * flight. Asked before an idle stop, a stop and a retirement, since workers
   * report activity in batches. Absent: the proxy is in this process, nothing to wait for.
   */
  quiesce?: (app: string) => Promise<void>;
  /**
   * Several gateways on one store: whether this gateway acts now (it leads).
   * One that does not still serves and cold-starts (under the lease) but leaves
   * idle stops, removals, replica fills, restarts and rollouts to the leader,
   * and follows what the engine reports instead. Absent: always.
   */
  acts?: () => boolean;
  /** Several gateways: runs a start or an idle stop of the app under the per-app lease, so one gateway does it. */
  lease?: AppLease;
  /**
   * Several gateways: why the leader stopped the app (`idle`, `stopped through the API`, …) when it announced
   * a stop after `sinceMs` (epoch ms, not in that millisecond; recently), else undefined. A gateway that does not lead sees the
   * leader's stop only as its containers' exits; with this it tells them as that stop, not as the app's own.
   */
  leaderStopped?: LeaderStopped;
  /** The gateway's bounds on starts, shared by every app (start-budget.ts). Absent: none. */
  startBudget?: StartBudget;
  /** The gateway's bound on idle stops under way at once, shared by every app (idle-stop-slots.ts). Absent: none. */
  idleStopSlots?: IdleStopSlots;
  /** When a stop the engine did not carry out is tried again (stop-retry.ts). Absent: 1 s doubling to 30 s. */
  stopRetry?: StopRetrySchedule;
  /**
   * The engine answers again after an outage one of this app's starts ran into. The
   * start may have been carried out with its answer lost (the connection cut as it
   * came): its container runs while the app shows failed, until something looks.
   * Absent: the next resync looks.
   */
  engineBack?: () => void;
  /**
   * Keeps the app's failure in the store when it fails, and forgets it when the app is past it
   * (kept-failure.ts), so that a gateway restart still shows it failed and why. Absent: nothing kept.
   */
  keepFailure?: KeepFailure;
}

/** See AppControllerDeps.leaderStopped. */
export type LeaderStopped = (app: string, sinceMs: number) => string | undefined;

/**
 * Runs `work` holding the app's lease across gateways, waiting at most `waitMs` for it. `work` may end the lease
 * before it ends itself with `letGo` (see LetGo in app-lease.ts); a lease that gives none ends with the work.
 */
export type AppLease = <T>(app: string, waitMs: number, work: (letGo?: () => void) => Promise<T>) => Promise<T>;
