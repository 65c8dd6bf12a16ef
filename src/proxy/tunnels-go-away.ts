import type { Upstream } from './upstream.js';

/** How long a WebSocket told to go away has to close before it is cut (as at shutdown). */
export const WS_CLOSE_GRACE_MS = 1_000;

/**
 * Sends each open WebSocket of an instance leaving the rotation (a stop, a scale-down,
 * an update) a close frame with code 1001 (Going Away), and cuts it after `graceMs`.
 * A WebSocket never ends by itself: a drain that waited on it took its whole bound
 * (30 s for every `berth stop` with one open) and then cut it without a close frame
 * (1006), where a client told 1001 reconnects at once, to an instance in rotation.
 * Handshakes still on their way are left to finish.
 */
export function tunnelsGoAway(upstream: Upstream, graceMs = WS_CLOSE_GRACE_MS): void {
  if (!upstream.tunnels) return;
  for (const exchange of upstream.tunnels) if (exchange.open) void exchange.goAway(graceMs);
}
