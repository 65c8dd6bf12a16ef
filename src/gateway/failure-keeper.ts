import type { Logger } from 'pino';
import { messageOf } from '../errors.js';
import type { FailureStore, StoredFailure } from '../store/store.js';

export interface FailureKeeperOptions {
  store: FailureStore;
  /** The apps whose failure the store held when the gateway started. */
  saved: Iterable<string>;
  /**
   * Several gateways: only the one that acts (the leader) writes, as it alone publishes the app
   * states the others show. Another gateway may have written a failure since this one read the
   * store, so with it every forget is written; alone, one of a failure not held is skipped.
   */
  acts?: () => boolean;
  logger?: Logger;
}

/**
 * Writes the apps' failures to the store as the controllers report them (keepFailure),
 * one write at a time and in the order reported, so a failure and the start that clears
 * it land as they happened. Rare (a failure, the start after it): written at once, not
 * batched. A write the store refuses is logged and dropped: the app's state in memory
 * is unchanged, only a restart would not tell it.
 */
export class FailureKeeper {
  private running: Promise<void> = Promise.resolve();
  private failing = false;
  /** The apps whose failure the store holds, as far as this gateway knows (see FailureKeeperOptions.acts). */
  private readonly held: Set<string>;

  constructor(private readonly options: FailureKeeperOptions) {
    this.held = new Set(options.saved);
  }

  /** Queues the write of `app`'s failure (undefined: forget it). Never throws. */
  keep(app: string, failure: StoredFailure | undefined): void {
    const shared = this.options.acts !== undefined;
    if (shared && !this.options.acts!()) return;
    // Every start that works forgets: alone on the store, one of an app that never failed is no write at all.
    if (!failure && !shared && !this.held.has(app)) return;
    if (failure) this.held.add(app);
    else this.held.delete(app);
    this.running = this.running.then(() => this.write(app, failure));
  }

  /** Resolves once every write queued so far is done (the gateway closes the store after). */
  close(): Promise<void> {
    return this.running;
  }

  private async write(app: string, failure: StoredFailure | undefined): Promise<void> {
    try {
      await this.options.store.saveAppFailure(app, failure);
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.options.logger?.warn({ app, err: messageOf(err) }, "cannot keep the app's failure in the store; a restart will not show it");
      this.failing = true;
    }
  }
}
