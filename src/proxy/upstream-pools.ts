import { Pool } from 'undici';

/** Default bound on connecting to an app (config `timeouts.upstreamConnect`). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Keep-alive connection pools, one per upstream origin and connect timeout (undici
 * takes the connect timeout per pool, not per request; apps with their own
 * `timeouts.connect` get pools of their own). They live outside the routing
 * configuration, so a reload keeps warm connections; pools for origins that are
 * gone are closed by `retain`.
 */
export class UpstreamPools {
  private readonly pools = new Map<string, { origin: string; pool: Pool }>();

  constructor(private readonly defaultConnectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS) {}

  get(origin: string, connectTimeoutMs = this.defaultConnectTimeoutMs): Pool {
    const key = connectTimeoutMs === this.defaultConnectTimeoutMs ? origin : `${origin}#${connectTimeoutMs}`;
    const entry = this.pools.get(key);
    if (entry) return entry.pool;
    const pool = new Pool(origin, {
      connectTimeout: connectTimeoutMs,
      // The response-header bound is given per request (apps may set their own).
      // The body is not bounded: streams and SSE may be quiet for long; a client
      // that stops reading is bounded by the proxy's send timeout instead.
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
    this.pools.set(key, { origin, pool });
    return pool;
  }

  /** Closes pools whose origin is not in `live` (in-flight requests finish first). */
  retain(live: ReadonlySet<string>): void {
    for (const [key, { origin, pool }] of this.pools) {
      if (live.has(origin)) continue;
      this.pools.delete(key);
      void pool.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((p) => p.pool.close().catch(() => undefined)));
  }
}
