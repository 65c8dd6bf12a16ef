import { doublingDelayMs } from '../backoff.js';

/**
 * When a stop the engine did not carry out is tried again, and which failures
 * are worth a log line. An engine that fails for hours must not get a stop call
 * every second from every app it left up, nor the log a line for each: the
 * tries back off, and a failure is logged when it is new (the first, or its
 * reason changed) or when the last line about it is old. The app's status says
 * why all along (see LeftoverStops in leftover-stops.ts), so nothing is hidden.
 */
export interface StopRetrySchedule {
  /** The wait before the first try again; each failure after it doubles the wait. */
  firstMs: number;
  /** The longest wait between two tries. */
  maxMs: number;
  /** An unchanged failure is logged again at most this often. */
  logEveryMs: number;
}

export const DEFAULT_STOP_RETRY: StopRetrySchedule = { firstMs: 1_000, maxMs: 30_000, logEveryMs: 5 * 60_000 };

/** The wait after `failures` failed tries in a row (1 s, 2 s, 4 s … at most 30 s by default). Pure. */
export function stopRetryDelayMs(failures: number, schedule: StopRetrySchedule): number {
  return doublingDelayMs(failures - 1, schedule.firstMs, schedule.maxMs);
}

/** The failure last logged: its reason and when. */
export interface LoggedFailure {
  reason: string;
  atMs: number;
}

/** Whether a failure with `reason` at `nowMs` gets a log line, after `last` was logged. Pure. */
export function shouldLogStopFailure(last: LoggedFailure | undefined, reason: string, nowMs: number, logEveryMs: number): boolean {
  return last === undefined || last.reason !== reason || nowMs - last.atMs >= logEveryMs;
}

/** One app's failed stops in a row; reset when a stop succeeds or the app starts. */
export class StopRetry {
  private failures = 0;
  private logged?: LoggedFailure;

  constructor(
    readonly schedule: StopRetrySchedule = DEFAULT_STOP_RETRY,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  /** Whether tries have failed since the last reset (a retry is under way). */
  get retrying(): boolean {
    return this.failures > 0;
  }

  /** Notes one container's failed stop; answers whether to log it. */
  failed(reason: string): boolean {
    const now = this.nowMs();
    if (!shouldLogStopFailure(this.logged, reason, now, this.schedule.logEveryMs)) return false;
    this.logged = { reason, atMs: now };
    return true;
  }

  /** Ends a round of tries that left a container up: the wait before the next round. */
  nextDelayMs(): number {
    this.failures++;
    return stopRetryDelayMs(this.failures, this.schedule);
  }

  reset(): void {
    this.failures = 0;
    this.logged = undefined;
  }
}
