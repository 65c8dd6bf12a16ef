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
