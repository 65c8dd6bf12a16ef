/** A held slot; giving it back twice is harmless. */
export type Release = () => void;

interface Waiter {
  grant(release: Release): void;
}

/**
 * At most `size` holders at once; the others wait in arrival order, each for
 * a bounded time. The per-app leases use it in front of their own connection
 * pool: a lease holds a connection through a cold start's engine calls, so more
 * concurrent starts than connections must queue for one rather than time out on the
 * pool's short connect timeout, which reads as the store being unreachable.
 */
export class SlotQueue {
  private used = 0;
  private readonly waiting: Waiter[] = [];

  constructor(readonly size: number) {}

  /** How many slots are held now. */
  get inUse(): number {
    return this.used;
  }

  /** How many wait for a slot now. */
  get queued(): number {
    return this.waiting.length;
  }

  /** A release once a slot is free, or undefined if none was within `waitMs` or `signal` aborted the wait. */
  acquire(waitMs: number, signal?: AbortSignal): Promise<Release | undefined> {
    if (signal?.aborted) return Promise.resolve(undefined);
    if (this.used < this.size) {
      this.used++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve) => {
      const giveUp = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', giveUp);
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
        resolve(undefined);
      };
      const waiter: Waiter = {
        grant: (release) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', giveUp);
          resolve(release);
        },
      };
      const timer = setTimeout(giveUp, Math.max(0, waitMs));
      signal?.addEventListener('abort', giveUp, { once: true });
      this.waiting.push(waiter);
    });
  }

  private releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // The slot passes straight to the next waiter, so a newcomer cannot overtake the queue.
      const next = this.waiting.shift();
      if (next) next.grant(this.releaser());
      else this.used--;
    };
  }
}
