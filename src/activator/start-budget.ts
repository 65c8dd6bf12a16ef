import type { BerthError } from '../errors.js';
import { SlotQueue } from '../cluster/gateways/slot-queue.js';
import { RunningAppsFullError, StartSlotsBusyError } from './start-errors.js';

/** The gateway's bounds on cold starts (config `limits`); both need a restart to change. */
export interface StartLimits {
  /** Most app starts under way at once; more wait for one to end, in arrival order. */
  concurrentStarts: number;
  /** Most apps up at once (starting, running or paused); undefined: no bound. */
  runningApps?: number;
}

/** Default of `limits.concurrentStarts`: far more than people wake by hand, far fewer than an engine takes at once. */
export const DEFAULT_CONCURRENT_STARTS = 32;

/**
 * What hostile or careless traffic could otherwise push without end: a request
 * to every app's host at once would create and start every app's container at
 * once, which the engine and the host's memory do not survive, and with them
 * every app behind the gateway. Starts beyond `concurrentStarts` wait for a
 * slot (within their own start timeout); an app that is down is refused a
 * start while `runningApps` apps are up (503 with Retry-After, as JupyterHub's
 * active_server_limit does), until one idles out.
 */
export class StartBudget {
  private readonly slots: SlotQueue;

  constructor(
    private readonly limits: StartLimits,
    private readonly appsUp: () => number,
  ) {
    this.slots = new SlotQueue(limits.concurrentStarts);
  }

  /** Why `app`, which is down, may not start now; undefined when it may. */
  refusal(app: string): BerthError | undefined {
    return runningAppsRefusal(app, this.appsUp(), this.limits.runningApps);
  }

  /**
   * Runs `start` (a container's start up to its readiness) holding one of the
   * slots, waiting for one at most `waitMs`, or until `signal` calls the start off. Only the container's own start holds
   * it, not the wait for the apps it depends on: those take slots of their own,
   * and a dependent holding one while they wait could leave them none.
   */
  async run<T>(app: string, waitMs: number, start: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.slots.acquire(waitMs, signal);
    // Called off while it waited (a stop, a delete): the caller tells why.
    if (!release && signal?.aborted) throw new Error('the start was called off while it waited for a start slot');
    if (!release) throw new StartSlotsBusyError(app, this.limits.concurrentStarts);
    try {
      return await start();
    } finally {
      release();
    }
  }
}

/** The refusal for starting one more app while `up` apps are up and at most `max` may be; pure. */
export function runningAppsRefusal(app: string, up: number, max: number | undefined): BerthError | undefined {
  return max !== undefined && up >= max ? new RunningAppsFullError(app, max) : undefined;
}
