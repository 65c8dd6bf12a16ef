import { BerthError } from '../errors.js';

/** A start that did not end with a ready app; carries the reason for every waiter. */
export class StartFailedError extends BerthError {
  constructor(app: string, reason: string, timedOut: boolean) {
    super(timedOut ? 'upstream_timeout' : 'upstream_unavailable', `app ${app} failed to start: ${reason}`);
  }
}

/** The last start failed moments ago: a reloading browser sees that instead of starting the app again at once. */
export class RecentStartFailure extends BerthError {
  constructor(reason: string) {
    super('upstream_unavailable', reason);
  }
}

/** The app runs but has no instance in rotation (all failing their health checks, say). */
export class NoInstanceError extends BerthError {
  readonly retryAfterS = 1;
  constructor(app: string) {
    super('overloaded', `app ${app} has no healthy instance right now`);
  }
}

/** Too many requests already wait for this app's start. */
export class QueueFullError extends BerthError {
  readonly retryAfterS = 1;
  constructor(app: string, size: number) {
    super('overloaded', `app ${app} is starting and ${size} requests already wait for it`);
  }
}

/** The app keeps failing; berth waits before trying again so the engine is not hammered. */
export class CrashLoopError extends BerthError {
  constructor(
    app: string,
    reason: string,
    readonly retryAfterS: number,
  ) {
    super('overloaded', `app ${app} is crash-looping (${reason}); next try in ${retryAfterS}s`);
  }
}
