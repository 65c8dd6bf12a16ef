import type { AppTimeouts } from '../spec/types.js';
import type { ForwardBounds } from './forward-http.js';
import { DEFAULT_CONNECT_TIMEOUT_MS } from './upstream-pools.js';

/** The proxy's bounds on waiting, in milliseconds (the config's `timeouts`). */
export interface ProxyTimeouts {
  /** A client's request headers (the HTTP server's headersTimeout). */
  clientHeaderMs: number;
  /** A request body going without a byte: 408. */
  clientBodyIdleMs: number;
  /** A response the client leaves unread: its connection is closed. */
  clientSendMs: number;
  /** Connecting to an app: 504. */
  upstreamConnectMs: number;
  /** An app's response headers: 504. */
  upstreamResponseMs: number;
}

/**
 * How often Node's HTTP/1.1 server looks for connections past their header bound
 * (its `connectionsCheckingInterval`): at its default of 30 s a bound of 60 s could
 * take 90, so a quarter of the bound (50 ms to 30 s).
 */
export function headerCheckIntervalMs(headersTimeoutMs: number): number {
  return Math.min(30_000, Math.max(50, Math.round(headersTimeoutMs / 4)));
}

/** nginx's spirit: a minute for each side, ten seconds to connect. */
export const DEFAULT_PROXY_TIMEOUTS: ProxyTimeouts = {
  clientHeaderMs: 60_000,
  clientBodyIdleMs: 60_000,
  clientSendMs: 60_000,
  upstreamConnectMs: DEFAULT_CONNECT_TIMEOUT_MS,
  upstreamResponseMs: 60_000,
};

/** One exchange's bounds: the app's own upstream bounds win over the gateway's. */
export function exchangeBounds(gateway: ProxyTimeouts, app: AppTimeouts | undefined): ForwardBounds & { connectTimeoutMs: number } {
  return {
    connectTimeoutMs: app?.connectMs ?? gateway.upstreamConnectMs,
    responseTimeoutMs: app?.responseMs ?? gateway.upstreamResponseMs,
    bodyIdleMs: gateway.clientBodyIdleMs,
    sendMs: gateway.clientSendMs,
  };
}
