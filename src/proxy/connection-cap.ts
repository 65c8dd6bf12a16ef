import type { Server } from 'node:net';
import type { Socket } from 'node:net';

/** Seconds a refused client is asked to wait. */
const RETRY_AFTER_S = 1;
/** A refused client that does not read its 503 is cut off after this. */
const REFUSED_LINGER_MS = 2_000;

const BODY = 'berth: too many connections, retry shortly\n';
const REFUSAL =
  'HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n' +
  `content-length: ${Buffer.byteLength(BODY)}\r\nretry-after: ${RETRY_AFTER_S}\r\nconnection: close\r\n\r\n${BODY}`;

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
export function capConnections(server: Server, max: () => number, onRefused: () => void): { readonly open: number } {
  const state = { open: 0 };
  const emit = server.emit.bind(server) as (event: string | symbol, ...args: unknown[]) => boolean;
  server.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
    if (event !== 'connection') return emit(event, ...args);
    const socket = args[0] as Socket;
    if (state.open >= max()) {
      refuse(socket);
      onRefused();
      return true;
    }
    state.open++;
    socket.once('close', () => state.open--);
    return emit(event, ...args);
  }) as Server['emit'];
  return state;
}

function refuse(socket: Socket): void {
  socket.on('error', () => undefined);
  // Whatever the client sent is read and dropped: closing with unread input would
  // reset the connection and could lose the 503 on its way.
  socket.resume();
  socket.end(REFUSAL);
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
