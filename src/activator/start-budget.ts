import type { BerthError } from '../errors.js';
import { SlotQueue } from '../cluster/gateways/slot-queue.js';
import { RunningAppsFullError, StartSlotsBusyError } from './start-errors.js';
import { DEFAULT_START_SLOT_HOLD_MS, slotGiveBackAt } from './start-slot-hold.js';

/** The gateway's bounds on cold starts (config `limits`); both need a restart to change. */
export interface StartLimits {
  /** Most app starts under way at once; more wait for one to end, in arrival order. */
  concurrentStarts: number;
  /** How long a start may hold its slot while it waits for its app's readiness (start-slot-hold.ts); default DEFAULT_START_SLOT_HOLD_MS. */
  startSlotHoldMs?: number;
  /** Most apps up at once (starting, running or paused); undefined: no bound. */
  runningApps?: number;
}

/** Default of `limits.concurrentStarts`: far more than people wake by hand, far fewer than an engine takes at once. */
export const DEFAULT_CONCURRENT_STARTS = 32;

/** What a start tells the budget while it holds a slot. */
export interface HeldStartSlot {
  /** The engine calls are done: the container runs and is waited for (once is enough; again is harmless). */
  readinessBegan(): void;
}

/**
 * What hostile or careless traffic could otherwise push without end: a request
 * to every app's host at once would create and start every app's container at
 * once, which the engine and the host's memory do not survive, and with them
 * every app behind the gateway. Starts beyond `concurrentStarts` wait for a
 * slot (within their own start timeout); an app that is down is refused a
 * start while `runningApps` apps are up (503 with Retry-After, as JupyterHub's
 * active_server_limit does), until one idles out. A start that has waited
 * `startSlotHoldMs` for its app's readiness gives its slot back and waits on
 * outside the slots (start-slot-hold.ts): apps that never answer cannot hold
 * every slot against everyone else's starts.
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

  /** Slots held now (starts in their engine calls or the first stretch of readiness). */
  get inUse(): number {
    return this.slots.inUse;
  }

  /**
   * Runs `start` (a container's start up to its readiness) holding one of the
   * slots, waiting for one at most `waitMs`, or until `signal` calls the start off. Only the container's own start holds
   * it, not the wait for the apps it depends on: those take slots of their own,
   * and a dependent holding one while they wait could leave them none. `waitMs`
   * is what is left of the start's timeout: past it the start ends by itself.
   */
  async run<T>(app: string, waitMs: number, start: (held: HeldStartSlot) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const deadline = performance.now() + waitMs;
    const release = await this.slots.acquire(waitMs, signal);
    // Called off while it waited (a stop, a delete): the caller tells why.
    if (!release && signal?.aborted) throw new Error('the start was called off while it waited for a start slot');
    if (!release) throw new StartSlotsBusyError(app, this.limits.concurrentStarts);
    let giveBack: NodeJS.Timeout | undefined;
    let waitingSince: number | undefined;
    const held: HeldStartSlot = {
      readinessBegan: () => {
        if (waitingSince !== undefined) return;
        waitingSince = performance.now();
        const at = slotGiveBackAt(waitingSince, this.limits.startSlotHoldMs ?? DEFAULT_START_SLOT_HOLD_MS, deadline);
        // Releasing twice is harmless (slot-queue.ts): the finally below gives nothing back a second time.
        if (at !== undefined) giveBack = setTimeout(release, Math.max(0, at - waitingSince));
      },
    };
    try {
      return await start(held);
    } finally {
      clearTimeout(giveBack);
      release();
    }
  }
}

/** The refusal for starting one more app while `up` apps are up and at most `max` may be; pure. */
export function runningAppsRefusal(app: string, up: number, max: number | undefined): BerthError | undefined {
  return max !== undefined && up >= max ? new RunningAppsFullError(app, max) : undefined;
}
