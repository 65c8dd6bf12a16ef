import type { Duplex } from 'node:stream';
import { rawProblemResponse } from '../api/problem.js';
import { problemOfFailure } from './error-page.js';
import type { ProxyFailure } from './failure.js';

/**
 * Answers a failed Upgrade request. There is no ServerResponse for an upgrade,
 * so the HTTP response is written onto the socket by hand and the socket ended.
 * `extraHeaders` are written as given ([name, value, ...]). Answers the body
 * bytes written, which the history counts as it counts sendFailure's.
 */
export function writeRawFailure(socket: Duplex, failure: ProxyFailure, app?: string, extraHeaders: readonly string[] = []): number {
  if (failure.status === 0 || socket.destroyed || !socket.writable) {
    socket.destroy();
    return 0;
  }
  const answer = rawProblemResponse(problemOfFailure(failure, app), extraHeaders);
  endRaw(socket, answer);
  return Buffer.byteLength(answer) - Buffer.byteLength(answer.slice(0, answer.indexOf('\r\n\r\n') + 4));
}

/**
 * Answers an Upgrade request with a 308 to `location` (a plain handshake to a route
 * kept to HTTPS), written by hand as writeRawFailure's answers are, and ends the socket.
 * A location that is not visible ASCII (none is: berth builds it from a checked host and
 * a normalised target) would split the head; the socket is cut instead.
 */
export function writeRawRedirect(socket: Duplex, location: string): void {
  if (socket.destroyed || !socket.writable || !/^[\x21-\x7e]+$/.test(location)) {
    socket.destroy();
    return;
  }
  endRaw(socket, `HTTP/1.1 308 Permanent Redirect\r\nlocation: ${location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
}

/**
 * Writes a hand-made answer and ends the socket. Unread bytes are dropped rather than left
 * to turn the close into a reset that could lose the answer; a client that never hangs up
 * is cut after a while.
 */
function endRaw(socket: Duplex, answer: string): void {
  socket.end(answer);
  socket.resume();
  setTimeout(() => socket.destroy(), RAW_LINGER_MS).unref();
}

/** How long a client answered with a failure may keep its socket. */
const RAW_LINGER_MS = 5_000;
