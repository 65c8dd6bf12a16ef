import type pg from 'pg';
import type { Logger } from 'pino';
import { messageOf } from '../../errors.js';
import { checkOut, type CheckedOut } from '../../store/pg-connect.js';

/** The advisory lock space of per-app leases (two-key form: this, hashtext(app)). */
const APP_LEASE = 0x6c656173;

/**
 * A per-app lease across gateways: a transaction-level advisory lock held while
 * one gateway starts (or idle-stops) an app, so concurrent first requests at
 * different gateways make one container start. The others wait on the lock;
 * once they hold it the container is running already, and their start is the
 * engine's no-op on a running container followed by the readiness check.
 *
 * When the store cannot be reached the work goes ahead without the lease (a
 * cold start from the last known state beats refusing it); the engine's own
 * name reservation still keeps one container per instance.
 */
export class AppLeases {
  private failing = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly logger: Logger,
  ) {}

  async hold<T>(app: string, waitMs: number, work: () => Promise<T>): Promise<T> {
    let held: CheckedOut;
    try {
      // The server ending the session while the start runs (a restart) loses the lease; the start goes on.
      held = await checkOut(this.pool, (err) => this.degraded(app, err));
    } catch (err) {
      this.degraded(app, err);
      return work();
    }
    const client = held.client;
    let locked = false;
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(waitMs))}`);
      // The wait is bounded by lock_timeout on the server, not by the pool's short query timeout (a slow start is no outage).
      const lock = { text: 'SELECT pg_advisory_xact_lock($1, hashtext($2))', values: [APP_LEASE, app], query_timeout: Math.round(waitMs) + 5_000 };
      await client.query(lock as pg.QueryConfig);
      locked = true;
      this.failing = false;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      held.release(err instanceof Error ? err : true);
      this.degraded(app, err);
      return work();
    }
    try {
      return await work();
    } finally {
      if (locked && !held.lost()) await client.query('COMMIT').catch(() => undefined);
      held.release();
    }
  }

  private degraded(app: string, err: unknown): void {
    if (!this.failing) this.logger.warn({ app, err: messageOf(err) }, 'no per-app lease (the store does not answer): going ahead alone');
    this.failing = true;
  }
}
