import type pg from 'pg';
import type { Logger } from 'pino';
import { messageOf } from '../../errors.js';
import { checkOut, type CheckedOut } from '../../store/pg-connect.js';
import { SlotQueue, type Release } from './slot-queue.js';

/** The advisory lock space of per-app leases (two-key form: this, hashtext(app)). */
const APP_LEASE = 0x6c656173;

/**
 * Ends the lease before its work does: COMMIT, and the connection (and its
 * place in the queue) back. A cold start calls it once its container runs
 * (app-controller.ts): the lease is for the engine calls that make the one
 * container, and held through a wait for readiness that may last the start's
 * whole timeout, a few apps that never answer held every lease connection
 * against every other app's start. Calling it again, or after the work, is
 * harmless; the hold itself still resolves only once the lease is let go.
 */
export type LetGo = () => void;

/** Work done under a lease; `letGo` ends the lease early (see LetGo). */
export type LeasedWork<T> = (letGo: LetGo) => Promise<T>;

/**
 * A per-app lease across gateways: a transaction-level advisory lock held while
 * one gateway starts (or idle-stops) an app, so concurrent first requests at
 * different gateways make one container start. The others wait on the lock;
 * once they hold it the container is running already, and their start is the
 * engine's no-op on a running container followed by the readiness check.
 *
 * Each lease holds one of the pool's connections until its work ends or lets
 * it go (`LetGo`, above), so more concurrent holders than connections queue for
 * one (`slots`, the pool's size): only a store that does not answer, or a lease
 * still held by another gateway after `waitMs`, lets the work go ahead without
 * it (a cold start from the last known state beats refusing it); the engine's
 * own name reservation still keeps one container per instance.
 */
export class AppLeases {
  private failing = false;
  private readonly slots: SlotQueue;

  constructor(
    private readonly pool: pg.Pool,
    private readonly logger: Logger,
  ) {
    this.slots = new SlotQueue(Math.max(1, pool.options.max ?? 10));
  }

  async hold<T>(app: string, waitMs: number, work: LeasedWork<T>): Promise<T> {
    // Monotonic: a wall clock set back an hour while this start queued gave its lock wait an hour more.
    const began = performance.now();
    const slot = await this.slots.acquire(waitMs);
    if (!slot) {
      this.logger.warn({ app, leases: this.slots.size, waitMs }, "all of this gateway's lease connections stayed busy with other apps' starts: going ahead without the lease");
      return work(() => undefined);
    }
    return this.holdOnConnection(app, Math.max(1, waitMs - (performance.now() - began)), work, slot);
  }

  /** `work` under the lease on a connection of its own; `slot` (its place among the connections) is given back with it. */
  private async holdOnConnection<T>(app: string, waitMs: number, work: LeasedWork<T>, slot: Release): Promise<T> {
    let held: CheckedOut;
    try {
      // The server ending the session while the start runs (a restart) loses the lease; the start goes on.
      held = await checkOut(this.pool, (err) => this.degraded(app, err));
    } catch (err) {
      slot();
      this.degraded(app, err);
      return work(() => undefined);
    }
    const client = held.client;
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(waitMs))}`);
      // The wait is bounded by lock_timeout on the server, not by the pool's short query timeout (a slow start is no outage).
      const lock = { text: 'SELECT pg_advisory_xact_lock($1, hashtext($2))', values: [APP_LEASE, app], query_timeout: Math.round(waitMs) + 5_000 };
      await client.query(lock as pg.QueryConfig);
      this.failing = false;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      held.release(err instanceof Error ? err : true);
      // Nothing held any more: the connection's place goes to the next start now, not at the end of this one's work.
      slot();
      if (isLockTimeout(err)) this.logger.warn({ app, waitMs }, 'another gateway held the lease of this app longer than its start timeout: going ahead without it');
      else this.degraded(app, err);
      return work(() => undefined);
    }
    let ended: Promise<void> | undefined;
    const end = (): Promise<void> =>
      (ended ??= (async () => {
        const committed = !held.lost() && (await client.query('COMMIT').then(() => true, () => false));
        // A connection whose COMMIT went unanswered (a silent link) is dropped: handed to the next start, its
        // BEGIN waited behind the lost COMMIT and that start went ahead without its lease.
        held.release(committed ? undefined : true);
        slot();
      })());
    try {
      return await work(() => void end());
    } finally {
      await end();
    }
  }

  private degraded(app: string, err: unknown): void {
    if (!this.failing) this.logger.warn({ app, err: messageOf(err) }, 'no per-app lease (the store does not answer): going ahead alone');
    this.failing = true;
  }
}

/** PostgreSQL's lock_not_available: lock_timeout ran out while another session held the lock (the store answered). */
function isLockTimeout(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '55P03';
}
