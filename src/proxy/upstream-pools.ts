import { Pool } from 'undici';

/**
 * Keep-alive connection pools, one per upstream origin. They live outside the
 * routing configuration, so a reload keeps warm connections; pools for origins
 * that are gone are closed by `retain`.
 */
export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();

  get(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        // Long-lived streams and slow apps are the upstream's business; berth
        // only bounds how long it waits for a connection.
        connectTimeout: 5_000,
        headersTimeout: 0,
        bodyTimeout: 0,
        keepAliveTimeout: 30_000,
        pipelining: 1,
        // A burst of requests released at once by a cold start would otherwise open a
        // connection each and overflow the fresh app's accept queue (clients then resend
        // after a second); queued in the pool instead, they are served in milliseconds.
        // The cap also bounds long-lived streams (SSE, long polls) per instance; WebSockets
        // do not go through the pool.
        connections: 256,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  /** Closes pools whose origin is not in `live` (in-flight requests finish first). */
  retain(live: ReadonlySet<string>): void {
    for (const [origin, pool] of this.pools) {
      if (live.has(origin)) continue;
      this.pools.delete(origin);
      void pool.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((p) => p.close().catch(() => undefined)));
  }
}
