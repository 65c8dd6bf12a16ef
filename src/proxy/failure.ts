import { BerthError, httpStatusOf, messageOf } from '../errors.js';

/** How a proxied request failed, decided in one place. */
export interface ProxyFailure {
  /** 0 means the client went away: nothing to answer. */
  status: number;
  code: string;
  reason: string;
  retryAfterS?: number;
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/**
 * The one function that turns an error into a status: a BerthError keeps its
 * catalogued status, an upstream timeout is a 504, a request the client aborted
 * gets no answer, and every other upstream failure is a 502.
 */
export function classifyFailure(err: unknown, clientGone: boolean): ProxyFailure {
  if (clientGone) return { status: 0, code: 'client_closed', reason: 'the client closed the connection' };
  if (err instanceof BerthError) {
    const retryAfterS = (err as { retryAfterS?: number }).retryAfterS;
    return { status: httpStatusOf(err), code: err.code, reason: err.message, retryAfterS };
  }
  const code = (err as { code?: string } | undefined)?.code ?? '';
  if (TIMEOUT_CODES.has(code)) return { status: 504, code: 'upstream_timeout', reason: `the app did not answer in time (${code})` };
  if (code === 'ECONNREFUSED') return { status: 502, code: 'upstream_unavailable', reason: 'the app refused the connection' };
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return { status: 502, code: 'upstream_unavailable', reason: 'the app closed the connection' };
  return { status: 502, code: 'upstream_unavailable', reason: messageOf(err) };
}
