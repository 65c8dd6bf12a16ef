import type { Duplex } from 'node:stream';
import { ERROR_CATALOGUE, type ErrorCode } from '../errors.js';
import { problemFor, rawProblemResponse } from '../api/problem.js';

/**
 * The status for a request Node's parser refused or timed out reading, by the
 * error's code; undefined when nothing should be written (the peer reset or
 * is gone). Header bytes past `maxHeaderSize` are 431, the header or request
 * timeout 408, anything else the parser refused 400.
 */
export function clientErrorStatus(code: string | undefined): number | undefined {
  const berthCode = clientErrorCode(code);
  return berthCode === undefined ? undefined : ERROR_CATALOGUE[berthCode].status;
}

/** The catalogue code answered for a parser or server error code (see clientErrorStatus). */
export function clientErrorCode(code: string | undefined): ErrorCode | undefined {
  if (code === undefined) return 'bad_request';
  if (GONE.has(code)) return undefined;
  if (code === 'HPE_HEADER_OVERFLOW') return 'too_many_headers';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'HPE_HEADERS_TIMEOUT') return 'request_timeout';
  if (code === 'BERTH_CONNECT') return 'method_not_allowed';
  return 'bad_request';
}

const DETAILS: Partial<Record<ErrorCode, string>> = {
  bad_request: 'the request could not be parsed as HTTP/1.1',
  too_many_headers: 'the request head is too large',
  request_timeout: 'the request head did not arrive in time',
  method_not_allowed: 'CONNECT is not served: berth tunnels nothing',
};

/** The whole raw answer for `clientErrorStatus(code)`, problem+json, always with `connection: close`. */
export function clientErrorResponse(code: string | undefined): string | undefined {
  const berthCode = clientErrorCode(code);
  if (berthCode === undefined) return undefined;
  const allow = berthCode === 'method_not_allowed' ? ['allow', 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'] : [];
  return rawProblemResponse(problemFor(berthCode, DETAILS[berthCode] ?? berthCode), allow);
}

/** The peer went away: there is nobody to answer. */
const GONE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_DESTROYED']);

/** What the `connect` listener answers: berth tunnels nothing. */
export const CONNECT_REFUSED = Object.assign(new Error('CONNECT is not served'), { code: 'BERTH_CONNECT' });

/**
 * Answers a request Node could not parse (or timed out reading) and closes the
 * connection. Never throws, and writes only while nothing of a response has
 * gone out on the socket yet, so a half-sent answer is never corrupted.
 */
export function answerClientError(err: Error, socket: Duplex): void {
  try {
    const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    const code = (err as { code?: string }).code;
    if (code === 'HPE_CLOSED_CONNECTION') {
      // Bytes after a request that ends the connection (`Connection: close`, HTTP/1.0 without keep-alive):
      // RFC 9112 §9.6 has the server process no further request, so they are ignored, not answered. A 400
      // in their name took the place of the answer under way: the app had done the request, and its client
      // was told it failed. Node's server ends the connection after that answer; without one, nothing is owed.
      if (!inFlight) socket.destroy();
      return;
    }
    const response = clientErrorResponse(code);
    if (response === undefined || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    socket.end(response);
    // end() flushes the answer first; a peer that never reads must not keep the socket.
    socket.once('finish', () => socket.destroy());
    setTimeout(() => socket.destroy(), 1_000).unref();
  } catch {
    socket.destroy();
  }
}

