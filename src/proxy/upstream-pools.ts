import { Http1Pool } from './http1/upstream-pool.js';

/** Default bound on connecting to an app (config `timeouts.upstreamConnect`). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** How often pools that hold nothing are forgotten. */
const UNUSED_POOL_SWEEP_MS = 60_000;

/**
 * Keep-alive connection pools, one per upstream origin and connect timeout
 * (apps with their own `timeouts.connect` get pools of their own). They live
 * outside the routing configuration, so a reload keeps warm connections. A pool
 * that holds nothing (its connections idled out, nothing queued) is forgotten by
 * a sweep: every start of a container publishes a new port, so each cold start
 * and each deleted app would otherwise leave a pool behind for as long as berth runs.
 */
export class UpstreamPools {
  private readonly pools = new Map<string, Http1Pool>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly defaultConnectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS,
    private readonly sweepEveryMs = UNUSED_POOL_SWEEP_MS,
  ) {}

  /** Pools remembered now. */
  get size(): number {
    return this.pools.size;
  }

  get(origin: string, connectTimeoutMs = this.defaultConnectTimeoutMs): Http1Pool {
    const key = connectTimeoutMs === this.defaultConnectTimeoutMs ? origin : `${origin}#${connectTimeoutMs}`;
    const known = this.pools.get(key);
    if (known) return known;
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
    this.pools.set(key, pool);
    this.sweeper ??= setInterval(() => this.forgetUnused(), this.sweepEveryMs).unref();
    return pool;
  }

  /**
   * Forgets the pools that hold nothing. Not closed: one that a caller still holds
   * keeps working, and the next request for its origin makes a new one.
   */
  forgetUnused(): void {
    for (const [key, pool] of this.pools) if (pool.unused) this.pools.delete(key);
    if (this.pools.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    const all = [...this.pools.values()];
    this.pools.clear();
    for (const pool of all) pool.close();
  }
}
