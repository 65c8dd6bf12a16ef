import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * The status for a request Node's parser refused or timed out reading, by the
 * error's code; undefined when nothing should be written (the peer reset or
 * is gone). Header bytes past `maxHeaderSize` are 431, the header or request
 * timeout 408, anything else the parser refused 400.
 */
export function clientErrorStatus(code: string | undefined): number | undefined {
  if (code === undefined) return 400;
  if (GONE.has(code)) return undefined;
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'HPE_HEADERS_TIMEOUT') return 408;
  if (code === 'BERTH_CONNECT') return 405;
  return 400;
}

/** The whole raw answer for `clientErrorStatus(code)`, always with `connection: close`. */
export function clientErrorResponse(code: string | undefined): string | undefined {
  const status = clientErrorStatus(code);
  if (status === undefined) return undefined;
  const allow = status === 405 ? 'allow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\n' : '';
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-length: 0\r\n${allow}connection: close\r\n\r\n`;
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
    const response = clientErrorResponse((err as { code?: string }).code);
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
