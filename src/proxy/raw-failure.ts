import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import type { ProxyFailure } from './failure.js';

/**
 * Answers a failed Upgrade request. There is no ServerResponse for an upgrade,
 * so the HTTP response is written onto the socket by hand and the socket ended.
 * `extraHeaders` are written as given ([name, value, ...]).
 */
export function writeRawFailure(socket: Duplex, failure: ProxyFailure, app?: string, extraHeaders: readonly string[] = []): void {
  if (failure.status === 0 || socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ type: `urn:berth:${failure.code}`, status: failure.status, code: failure.code, app, detail: failure.reason });
  let extra = failure.retryAfterS !== undefined ? `retry-after: ${failure.retryAfterS}\r\n` : '';
  for (let i = 0; i + 1 < extraHeaders.length; i += 2) extra += `${extraHeaders[i]}: ${extraHeaders[i + 1]}\r\n`;
  socket.end(
    `HTTP/1.1 ${failure.status} ${STATUS_CODES[failure.status] ?? ''}\r\n` +
      `content-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}connection: close\r\n\r\n${body}`,
  );
  // Unread bytes are dropped rather than left to turn the close into a reset that could
  // lose the answer; a client that never hangs up is cut after a while.
  socket.resume();
  setTimeout(() => socket.destroy(), RAW_LINGER_MS).unref();
}

/** How long a client answered with a failure may keep its socket. */
const RAW_LINGER_MS = 5_000;
