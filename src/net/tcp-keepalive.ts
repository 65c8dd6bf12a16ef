import type { Duplex } from 'node:stream';

/**
 * How long a tunnel's socket may carry nothing before the kernel starts
 * probing its peer (TCP keepalive; nginx's `so_keepalive`, Envoy's
 * `tcp_keepalive`). An open WebSocket has no idle bound, rightly for a live
 * one; but a peer that vanished without a FIN or a reset (network dropped,
 * laptop closed, NAT entry expired) sends nothing ever again, and on a tunnel
 * whose other side never writes nothing is sent to it either, so nothing ever
 * failed: the tunnel, its connection-cap slot and its app awake were held for
 * ever. With probes the kernel resets the connection once the peer stops
 * answering them, and the tunnel closes as on any reset.
 *
 * Node 20 (libuv 1.46) sets only the idle time (TCP_KEEPIDLE); interval and
 * count are the kernel's (Linux: 75 s × 9 by default), so a dead peer is
 * found about 12 minutes after the last byte. 60 s is well under the NAT and
 * load-balancer idle timeouts that probes also keep from expiring (AWS NLB
 * 350 s, most home routers more).
 */
export const DEAD_PEER_IDLE_MS = 60_000;

/**
 * Turns TCP keepalive on for a socket that may sit idle for as long as it
 * lives: a WebSocket's (both sides of its tunnel), an event stream's client,
 * an HTTP/2 connection (whose open streams keep it from its idle close). Set
 * where such an exchange begins, not on the listener: a plain request costs
 * no system call, and its idle kept-alive connection is closed by the
 * server's keep-alive timeout anyway. A TLS socket
 * passes the option to its TCP socket; a stream with no socket under it (a
 * test's) has nothing to set.
 */
export function probeDeadPeer(socket: Duplex, idleMs = DEAD_PEER_IDLE_MS): void {
  const tcp = socket as Duplex & { setKeepAlive?: (enable: boolean, initialDelayMs: number) => unknown };
  if (typeof tcp.setKeepAlive === 'function') tcp.setKeepAlive(true, idleMs);
}
