import type { Server } from 'node:net';
import type { Socket } from 'node:net';
import { unmappedAddress } from './forwarded-headers.js';

/** Seconds a refused client is asked to wait. */
const RETRY_AFTER_S = 1;
/** A refused client that does not read its 503 is cut off after this. */
const REFUSED_LINGER_MS = 2_000;

const BODY = 'berth: too many connections, retry shortly\n';
const REFUSAL =
  'HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n' +
  `content-length: ${Buffer.byteLength(BODY)}\r\nretry-after: ${RETRY_AFTER_S}\r\nconnection: close\r\n\r\n${BODY}`;

const PEER_BODY = 'berth: too many connections from your address, retry shortly\n';
const PEER_REFUSAL =
  'HTTP/1.1 429 Too Many Requests\r\ncontent-type: text/plain; charset=utf-8\r\n' +
  `content-length: ${Buffer.byteLength(PEER_BODY)}\r\nretry-after: ${RETRY_AFTER_S}\r\nconnection: close\r\n\r\n${PEER_BODY}`;

/** Each client address's bound (limits.connectionsPerClient): the trusted proxies (which carry many clients) are exempt. */
export interface PeerShare {
  /** Most connections one address may hold open. */
  max: number;
  /** Whether connections from `address` (unmapped) are exempt from the share. */
  exempt(address: string): boolean;
  /** Told of each connection refused for its address's share. */
  onRefused(): void;
}

/**
 * Caps the open client connections of `server` at `max()`. A connection past the
 * cap never reaches the HTTP parser: it gets a raw 503 with Retry-After and is
 * closed, which costs one write and no request parsing. `onRefused` is told of
 * each refusal (the caller rate-limits its log line).
 *
 * Node's own `maxConnections` would close such sockets without a word; the
 * 'connection' event cannot be vetoed by a listener (the HTTP server's own runs
 * regardless), so the cap sits in `emit`, in front of every listener.
 */
export function capConnections(server: Server, max: () => number, onRefused: () => void, peers?: PeerShare): { readonly open: number } {
  const state = { open: 0 };
  // Open connections per client address; only with a share to hold them to.
  const byPeer = new Map<string, number>();
  const emit = server.emit.bind(server) as (event: string | symbol, ...args: unknown[]) => boolean;
  server.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
    if (event !== 'connection') return emit(event, ...args);
    const socket = args[0] as Socket;
    const cap = max();
    if (state.open >= cap) {
      refuse(socket, REFUSAL);
      onRefused();
      return true;
    }
    // One address alone could otherwise hold every connection (idle ones renewed before their
    // timeouts), and every other client of every app got the cap's 503: it gets a 429 past its share.
    const peer = peers !== undefined ? socket.remoteAddress : undefined;
    if (peer !== undefined && !peers!.exempt(unmappedAddress(peer))) {
      const held = byPeer.get(peer) ?? 0;
      if (held >= peers!.max) {
        refuse(socket, PEER_REFUSAL);
        peers!.onRefused();
        return true;
      }
      byPeer.set(peer, held + 1);
      socket.once('close', () => {
        const n = byPeer.get(peer)! - 1;
        if (n <= 0) byPeer.delete(peer);
        else byPeer.set(peer, n);
      });
    }
    state.open++;
    socket.once('close', () => state.open--);
    return emit(event, ...args);
  }) as Server['emit'];
  return state;
}

function refuse(socket: Socket, answer: string): void {
  socket.on('error', () => undefined);
  // Whatever the client sent is read and dropped: closing with unread input would
  // reset the connection and could lose the 503 on its way.
  socket.resume();
  socket.end(answer);
  setTimeout(() => socket.destroy(), REFUSED_LINGER_MS).unref();
}

/** Calls `log(count)` at most once per `intervalMs` with the events counted since the last call. */
export function throttledCounter(log: (count: number) => void, intervalMs = 1_000): () => void {
  let count = 0;
  let timer: NodeJS.Timeout | undefined;
  return () => {
    count++;
    if (timer) return;
    log(count);
    count = 0;
    timer = setTimeout(() => {
      timer = undefined;
      if (count > 0) {
        const n = count;
        count = 0;
        log(n);
        // Keep the window closed for another interval after a flush.
        timer = setTimeout(() => (timer = undefined), intervalMs).unref();
      }
    }, intervalMs).unref();
  };
}
