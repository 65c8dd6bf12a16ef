import { Http1Pool } from './http1/upstream-pool.js';

/** Default bound on connecting to an app (config `timeouts.upstreamConnect`). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Keep-alive connection pools, one per upstream origin and connect timeout
 * (apps with their own `timeouts.connect` get pools of their own). They live
 * outside the routing configuration, so a reload keeps warm connections; pools
 * for origins that are gone are drained by `retain`.
 */
export class UpstreamPools {
  private readonly pools = new Map<string, { origin: string; pool: Http1Pool }>();

  constructor(private readonly defaultConnectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS) {}

  get(origin: string, connectTimeoutMs = this.defaultConnectTimeoutMs): Http1Pool {
    const key = connectTimeoutMs === this.defaultConnectTimeoutMs ? origin : `${origin}#${connectTimeoutMs}`;
    const entry = this.pools.get(key);
    if (entry) return entry.pool;
    const url = new URL(origin);
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const pool = new Http1Pool(host, Number(url.port || 80), {
      connectTimeoutMs,
      // A burst of requests released at once by a cold start would otherwise open a
      // connection each and overflow the fresh app's accept queue (clients then resend
      // after a second); queued in the pool instead, they are served in milliseconds.
      // The cap also bounds long-lived streams (SSE, long polls) per instance; WebSockets
      // do not go through the pool.
      maxConnections: 256,
      idleTimeoutMs: 30_000,
    });
    this.pools.set(key, { origin, pool });
    return pool;
  }

  /** Drains pools whose origin is not in `live` (requests in flight finish first). */
  retain(live: ReadonlySet<string>): void {
    for (const [key, { origin, pool }] of this.pools) {
      if (live.has(origin)) continue;
      this.pools.delete(key);
      pool.drain();
    }
  }

  async close(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    for (const { pool } of all) pool.close();
  }
}
