import { BerthError, StartFailedError } from '../errors.js';

export { StartFailedError };

/** The last start failed moments ago: a reloading browser sees that instead of starting the app again at once. */
export class RecentStartFailure extends BerthError {
  /** `reason` is the last failure as its app's clients may read it (AppController.publicLastError). */
  constructor(reason: string) {
    super('start_failed', reason, { publicMessage: reason });
  }
}

/** An instance restarted for its health got ready but did not pass its health checks again (`detail` says how). */
export class HealthNotPassedError extends StartFailedError {
  constructor(
    app: string,
    readonly detail: string,
  ) {
    super(app, `restarted, it ${detail}`, false);
  }
}

/**
 * A stop called the start off (the API's stop, restart or delete): no failure of the app's.
 * `restartFollows`: the stop is a restart's, whose start comes right behind it, so a waiter
 * of the start that was called off waits for that one (AppController.acquireFor).
 */
export class StartCalledOffError extends StartFailedError {
  constructor(
    app: string,
    why: string,
    readonly restartFollows: boolean,
  ) {
    super(app, `the start was called off: ${why}`, false);
  }
}

/** The app runs but has no instance in rotation (all failing their health checks, say). */
export class NoInstanceError extends BerthError {
  constructor(app: string) {
    const message = `app ${app} has no healthy instance right now`;
    super('overloaded', message, { retryAfterS: 1, publicMessage: message });
  }
}

/** Too many requests already wait for this app's start. */
export class QueueFullError extends BerthError {
  constructor(app: string, size: number) {
    const message = `app ${app} is starting and ${size} requests already wait for it`;
    super('overloaded', message, { retryAfterS: 1, publicMessage: message });
  }
}

/** The app keeps failing; berth waits before trying again so the engine is not hammered. */
export class CrashLoopError extends BerthError {
  declare readonly retryAfterS: number;
  /** `publicReason` is `reason` as a client of the proxy may read it (its last failure's public form). */
  constructor(app: string, reason: string, retryAfterS: number, publicReason?: string) {
    const loop = (why: string | undefined) => `app ${app} is crash-looping${why === undefined ? '' : ` (${why})`}; next try in ${retryAfterS}s`;
    super('overloaded', loop(reason), { retryAfterS, publicMessage: loop(publicReason) });
  }
}

/** The gateway ran `limits.concurrentStarts` starts for the whole of this app's start timeout: the gateway's load, not the app's failure. */
export class StartSlotsBusyError extends BerthError {
  constructor(app: string, slots: number) {
    super('overloaded', `app ${app} did not start: the gateway's ${slots} start slots (limits.concurrentStarts) stayed busy for its whole start timeout`, { retryAfterS: 5 });
  }
}

/** `limits.runningApps` apps are up: another starts once one idles out. */
export class RunningAppsFullError extends BerthError {
  constructor(app: string, max: number) {
    super('overloaded', `app ${app} is not running and the gateway already runs ${max} apps, the most limits.runningApps allows; try again once one has idled out`, {
      retryAfterS: 30,
      // The gateway's limit is its setup; that the client should come back later is what it needs.
      publicMessage: `app ${app} is not running and the gateway runs as many apps as it may; try again once one has idled out`,
    });
  }
}
