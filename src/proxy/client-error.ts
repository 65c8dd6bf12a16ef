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

/** Why a CONNECT is refused, on every listener and over every HTTP version. */
export const CONNECT_DETAIL = 'CONNECT is not served: berth tunnels nothing';

const DETAILS: Partial<Record<ErrorCode, string>> = {
  bad_request: 'the request could not be parsed as HTTP/1.1',
  too_many_headers: 'the request head is too large',
  request_timeout: 'the request head did not arrive in time',
  method_not_allowed: CONNECT_DETAIL,
};

/** The methods the proxy passes on to apps: what a refused CONNECT is told to use instead. */
export const PROXY_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

/**
 * The whole raw answer for `clientErrorStatus(code)`, problem+json, always with `connection: close`;
 * a refused CONNECT's `Allow` is `methods` (the listener's own).
 */
export function clientErrorResponse(code: string | undefined, methods = PROXY_METHODS): string | undefined {
  const berthCode = clientErrorCode(code);
  if (berthCode === undefined) return undefined;
  const allow = berthCode === 'method_not_allowed' ? ['allow', methods] : [];
  return rawProblemResponse(problemFor(berthCode, DETAILS[berthCode] ?? berthCode), allow);
}

/** The peer went away: there is nobody to answer. */
const GONE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_DESTROYED']);

/** What the `connect` listener answers: berth tunnels nothing. */
export const CONNECT_REFUSED = Object.assign(new Error('CONNECT is not served'), { code: 'BERTH_CONNECT' });

/** What answerClientError reads of the response a socket is writing (Node's ServerResponse). */
interface AnswerUnderWay {
  readonly headersSent?: boolean;
  /** Its request: still incomplete, the error is its own (a broken body, a timeout), not a later request's. */
  readonly req?: { readonly complete: boolean };
  once(event: 'finish', listener: () => void): unknown;
}

function answerUnderWay(socket: Duplex): AnswerUnderWay | undefined {
  return (socket as { _httpMessage?: AnswerUnderWay | null })._httpMessage ?? undefined;
}

/** Connections whose error answer waits for the answers before it; later errors of their broken parser add nothing. */
const answerOwed = new WeakSet<Duplex>();

/**
 * Answers a request Node could not parse (or timed out reading) and closes the
 * connection. Never throws, and never writes into a response under way. An error
 * in a request after those already read waits for their answers (HTTP/1.1 answers
 * pipelined requests in order) and goes out after them: written at once, it took
 * the place of their answer, and a client whose request the app had done was told
 * it failed. An error in the request being answered (its body broke, or it timed
 * out) is its answer, written at once unless that answer began already.
 */
export function answerClientError(err: Error, socket: Duplex, methods?: string): void {
  try {
    if (answerOwed.has(socket)) return;
    const underWay = answerUnderWay(socket);
    const code = (err as { code?: string }).code;
    if (code === 'HPE_CLOSED_CONNECTION') {
      // Bytes after a request that ends the connection (`Connection: close`, HTTP/1.0 without keep-alive):
      // RFC 9112 §9.6 has the server process no further request, so they are ignored, not answered.
      // Node's server ends the connection after the answer under way; without one, nothing is owed.
      if (underWay === undefined) socket.destroy();
      return;
    }
    const response = clientErrorResponse(code, methods);
    if (response === undefined || !socket.writable) {
      socket.destroy();
      return;
    }
    answerOwed.add(socket);
    answerInTurn(socket, response);
  } catch {
    socket.destroy();
  }
}

/**
 * Writes `response` now, or once the answers to the complete requests before it are out.
 * Node's server hands the socket to the next queued answer in its own 'finish' listener,
 * which runs before the one here. A connection that closes first owes nothing.
 */
function answerInTurn(socket: Duplex, response: string): void {
  const underWay = answerUnderWay(socket);
  if (underWay === undefined || underWay.req?.complete === false) {
    if (underWay?.headersSent === true || !socket.writable) socket.destroy();
    else endWith(socket, response);
    return;
  }
  underWay.once('finish', () => {
    try {
      answerInTurn(socket, response);
    } catch {
      socket.destroy();
    }
  });
}

/** Writes the last answer and closes; a peer that never reads must not keep the socket. */
function endWith(socket: Duplex, response: string): void {
  socket.end(response);
  socket.once('finish', () => socket.destroy());
  setTimeout(() => socket.destroy(), 1_000).unref();
}
