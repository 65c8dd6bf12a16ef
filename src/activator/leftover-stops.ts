import type { Logger } from 'pino';
import { messageOf } from '../errors.js';
import type { Instance, Runtime } from '../runtime/runtime.js';
import type { AppTimers } from './app-timers.js';
import type { InstanceSet } from './instance-set.js';
import { StopRetry, type StopRetrySchedule } from './stop-retry.js';

/** A kept container that still holds its app up: running, or frozen. */
export function isUp(instance: Pick<Instance, 'state'>): boolean {
  return instance.state === 'running' || instance.state === 'paused';
}

/** The words lastError carries for a stop the engine did not carry out. */
const STOP_FAILED = 'the engine did not stop its container';

/**
 * Whether a stop the engine did not carry out (`stopFailure`) is shown as lastError in place of
 * `lastError`: a start's failure shown already stays, as the older and likely the cause; an earlier
 * stop failure gives way to the new one. Pure.
 */
export function stopFailureShown(lastError: string | undefined, stopFailure: string): boolean {
  return (lastError === undefined || lastError.startsWith(STOP_FAILED)) && lastError !== stopFailure;
}

/** What stopping an app's leftovers needs of it. */
export interface LeftoverStopsHost {
  app: string;
  runtime: Runtime;
  logger: Logger;
  instances: InstanceSet;
  timers: AppTimers;
  /** When a stop the engine did not carry out is tried again (stop-retry.ts). Absent: 1 s doubling to 30 s. */
  schedule?: StopRetrySchedule;
  /** Runs `step` in turn with the app's lifecycle steps. */
  serial: (step: () => Promise<void>) => Promise<void>;
  /** The app is down, not frozen, and not closed: what runs of it without serving is to be stopped. */
  down: () => boolean;
  /** The app's idle timeout in force. */
  idleTimeoutMs: () => number;
  lastError: () => string | undefined;
  /** Sets lastError (`clearOutput`: lastOutput goes with it), and announces the change when `tell`. */
  showError: (text: string | undefined, opts: { clearOutput: boolean; tell: boolean }) => void;
}

/**
 * The containers of an app that run without serving: a failed start's, kept for the next start, stopped once
 * nobody asked for the app for its idle timeout; and those a stop the engine did not carry out left up, tried
 * again with backoff, the status saying why until a stop succeeds.
 */
export class LeftoverStops {
  private readonly retry: StopRetry;
  private failure?: string;

  constructor(private readonly host: LeftoverStopsHost) {
    this.retry = new StopRetry(host.schedule);
  }

  /** What lastError says while a stop the engine did not carry out is pending, so its success clears only that. */
  get stopFailure(): string | undefined {
    return this.failure;
  }

  /**
   * Keeps a container that runs but does not serve for the next start, which
   * takes it as it is; nobody asking for the app for its idle timeout stops it,
   * as it would a serving one (a never-ready app must not run for ever).
   * Adopted once ready (resync), or taken by a start, it is no longer stopped.
   */
  keepUnready(instance: Instance): void {
    const { host } = this;
    host.instances.park(instance);
    host.timers.armLeftoverStop(host.idleTimeoutMs(), () => {
      void host.serial(async () => {
        if (host.down()) await this.stopUnready('it never got ready and was not asked for since');
      });
    });
  }

  /** Stops the kept containers that run (or are frozen) without serving (see keepUnready and retryLater). */
  async stopUnready(why: string): Promise<void> {
    const { host } = this;
    host.timers.cancelLeftoverStop();
    for (const i of host.instances.parked.filter(isUp)) {
      // A try again of a failing stop is not news: the failure's own line (when due) says it.
      if (!this.retry.retrying) host.logger.info({ app: host.app, instance: i.name, why }, 'stopping a container that does not serve');
      try {
        await host.runtime.stop(i.id, { timeoutS: 5 });
        host.instances.park({ ...i, state: 'exited', address: undefined });
      } catch (err) {
        this.stopFailed(i, err);
      }
    }
    this.settle();
  }

  /** After a stop: a container the engine did not stop runs on and its stop is tried again; else the stop succeeded. */
  settle(): void {
    if (this.host.instances.parked.some(isUp)) this.retryLater();
    else this.succeeded();
  }

  /**
   * One container the engine did not stop: the status says so until a stop
   * succeeds; the log says so when it is news (stop-retry.ts), not at every try.
   */
  stopFailed(instance: Instance, err: unknown): void {
    const { host } = this;
    const reason = messageOf(err);
    this.failure = `${STOP_FAILED} ${instance.name}: ${reason}; tried again`;
    if (stopFailureShown(host.lastError(), this.failure)) host.showError(this.failure, { clearOutput: true, tell: true });
    if (this.retry.failed(reason)) host.logger.warn({ app: host.app, instance: instance.name, err: reason }, 'stop failed; tried again with backoff, logged again when the reason changes');
  }

  /** The app starts or serves again: a pending try again of a stop is moot, and the next failure starts the backoff over. */
  cancel(): void {
    this.host.timers.cancelLeftoverStop();
    this.retry.reset();
    // Serving again (adopted by a resync): the stop that failed no longer stands as its last error.
    if (this.failure !== undefined && this.host.lastError() === this.failure) this.host.showError(undefined, { clearOutput: false, tell: false });
    this.failure = undefined;
  }

  /** Every kept container is down: a failure shown for a stop no longer holds. */
  private succeeded(): void {
    const { host } = this;
    const wasRetrying = this.retry.retrying;
    this.retry.reset();
    if (this.failure !== undefined && host.lastError() === this.failure) host.showError(undefined, { clearOutput: false, tell: true });
    if (wasRetrying) host.logger.info({ app: host.app }, 'a stop that had failed was carried out');
    this.failure = undefined;
  }

  /**
   * A stop the engine did not carry out (it did not answer, or refused) left a
   * container up behind an app that shows stopped: nothing else would stop it
   * (no idle clock runs for a stopped app). It is tried again while the app
   * stays down, 1 s later, then backing off (doubling up to 30 s: an engine
   * failing for hours is not called every second by every such app); a start
   * meanwhile takes the container as it is.
   */
  private retryLater(): void {
    const { host } = this;
    host.timers.armLeftoverStop(this.retry.nextDelayMs(), () => {
      void host.serial(async () => {
        if (host.down()) await this.stopUnready('a stop the engine did not carry out, tried again');
      });
    });
  }
}
