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
  socket.end(answer);
  // Unread bytes are dropped rather than left to turn the close into a reset that could
  // lose the answer; a client that never hangs up is cut after a while.
  socket.resume();
  setTimeout(() => socket.destroy(), RAW_LINGER_MS).unref();
  return Buffer.byteLength(answer) - Buffer.byteLength(answer.slice(0, answer.indexOf('\r\n\r\n') + 4));
}

/** How long a client answered with a failure may keep its socket. */
const RAW_LINGER_MS = 5_000;
