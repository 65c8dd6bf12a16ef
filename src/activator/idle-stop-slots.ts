import { SlotQueue, type Release } from '../cluster/gateways/slot-queue.js';

/** Default of `limits.concurrentIdleStops`: as many as starts, far fewer than the apps a crawler wakes. */
export const DEFAULT_CONCURRENT_IDLE_STOPS = 32;

/**
 * How long an idle stop waits for a slot before looking again whether its app is
 * still idle (it queues anew then, at the back): the wait is bounded, as every wait is.
 */
export const IDLE_STOP_SLOT_WAIT_MS = 60_000;

/**
 * The gateway's bound on idle stops (and pauses) under way at once. Apps a crawler woke
 * together idle out together: unbounded, each of their stops was an engine call at once,
 * each holding a descriptor and an engine connection for up to the app's stop timeout (an
 * app that ignores SIGTERM), beside the starts and requests the gateway serves meanwhile.
 * Beyond the bound they wait in arrival order; the app keeps serving while it waits, and
 * a request in the meantime calls its stop off.
 */
export class IdleStopSlots {
  private readonly slots: SlotQueue;
  /** Ends every wait when the gateway closes: a queued stop must not hold the process up for its wait. */
  private readonly closing = new AbortController();

  constructor(readonly size: number) {
    this.slots = new SlotQueue(size);
  }

  /** A release once a slot is free; undefined when none came within IDLE_STOP_SLOT_WAIT_MS, or after close(). */
  acquire(): Promise<Release | undefined> {
    return this.slots.acquire(IDLE_STOP_SLOT_WAIT_MS, this.closing.signal);
  }

  /** Ends the waits under way; later ones get no slot. */
  close(): void {
    this.closing.abort();
  }
}
