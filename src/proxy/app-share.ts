import type { ProxyFailure } from './failure.js';

/** Seconds a client refused for its app's share is asked to wait. */
const RETRY_AFTER_S = 1;

/**
 * The most requests one app may have in flight (held for a start, proxied, or an open
 * WebSocket) at one listener capped at `maxConnections`: half of it, so that one app alone
 * never leaves the others nothing (as Envoy's per-cluster circuit breakers and HAProxy's
 * per-server maxconn). Each of them holds a client connection, so without a share one app
 * whose upstream accepts and never answers (or a client flooding one app) filled the whole
 * cap, and every other app's clients got the cap's raw 503. At least 1; no bound without a cap. Pure.
 */
export function appShareOf(maxConnections: number): number {
  return Number.isFinite(maxConnections) ? Math.max(1, Math.floor(maxConnections / 2)) : Infinity;
}

/** The 503 for a request to `app` while it holds its whole share; pure. */
export function appShareRefusal(app: string, share: number): ProxyFailure {
  return {
    status: 503,
    code: 'overloaded',
    reason: `app ${app} already has ${share} requests in flight, its share of the gateway's connections (half of limits.connections)`,
    retryAfterS: RETRY_AFTER_S,
  };
}

/** Requests in flight per app, against the share each may hold. */
export class AppShares {
  private readonly counts = new Map<string, number>();

  constructor(readonly share: number) {}

  /** Whether one more request to `app` would go past its share. */
  full(app: string): boolean {
    return (this.counts.get(app) ?? 0) >= this.share;
  }

  began(app: string): void {
    this.counts.set(app, (this.counts.get(app) ?? 0) + 1);
  }

  ended(app: string): void {
    const n = (this.counts.get(app) ?? 0) - 1;
    // Forgotten at zero: a gateway that served many apps keeps no entry per app it once served.
    if (n <= 0) this.counts.delete(app);
    else this.counts.set(app, n);
  }
}
