import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import type { ProxyFailure } from './failure.js';

/**
 * Answers a failed Upgrade request. There is no ServerResponse for an upgrade,
 * so the HTTP response is written onto the socket by hand and the socket ended.
 */
export function writeRawFailure(socket: Duplex, failure: ProxyFailure, app?: string): void {
  if (failure.status === 0 || !socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ type: `urn:berth:${failure.code}`, status: failure.status, code: failure.code, app, detail: failure.reason });
  const retry = failure.retryAfterS !== undefined ? `retry-after: ${failure.retryAfterS}\r\n` : '';
  socket.end(
    `HTTP/1.1 ${failure.status} ${STATUS_CODES[failure.status] ?? ''}\r\n` +
      `content-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${retry}connection: close\r\n\r\n${body}`,
  );
}
