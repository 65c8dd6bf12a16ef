import { BerthError, httpStatusOf, messageOf, type ErrorCode } from '../errors.js';
import { publicReason } from './public-reason.js';

/** How a proxied request failed, decided in one place. */
export interface ProxyFailure {
  /** 0 means the client went away: nothing to answer. */
  status: number;
  code: ErrorCode;
  reason: string;
  /**
   * What a client of the proxy is told instead of `reason`, when the reason carries
   * text from outside the proxy (the engine's answer, a host path): see
   * public-reason.ts. Absent, the reason is the proxy's own words and public.
   */
  publicReason?: string;
  retryAfterS?: number;
}

/** What a failure message may name: the app, and the bounds that were waited out. */
export interface FailureContext {
  app?: string;
  connectTimeoutMs?: number;
  responseTimeoutMs?: number;
}

/** Connection-level failures: the upstream was refused, or closed before answering. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UPSTREAM_CLOSED']);

/** The connection to the app failed before any answer (the instance may be gone: a resend elsewhere is safe for an idempotent request). */
export function isConnectionFailure(err: Error): boolean {
  return CONNECTION_CODES.has((err as { code?: string }).code ?? '');
}

/** The process or the host ran out of file descriptors: the gateway's fault, never the app's. */
const FD_EXHAUSTED = new Set(['EMFILE', 'ENFILE']);

/** Seconds a client is asked to wait when the gateway itself is out of descriptors. */
export const OVERLOAD_RETRY_AFTER_S = 1;

/**
 * The one function that turns an error into a status: a BerthError keeps its
 * catalogued status (and Retry-After), a gateway out of file descriptors is a
 * 503, an upstream timeout is a 504 naming the app, a request the client aborted
 * gets no answer, and every other upstream failure is a 502.
 */
export function classifyFailure(err: unknown, clientGone: boolean, context: FailureContext = {}): ProxyFailure {
  if (clientGone) return { status: 0, code: 'client_closed', reason: 'the client closed the connection' };
  if (err instanceof BerthError) {
    const status = httpStatusOf(err);
    const shown = publicReason({ code: err.code, reason: err.message, status, publicMessage: err.publicMessage, app: context.app, retryAfterS: err.retryAfterS });
    return { status, code: err.code, reason: err.message, ...(shown === err.message ? {} : { publicReason: shown }), retryAfterS: err.retryAfterS };
  }
  const code = (err as { code?: string } | undefined)?.code ?? '';
  if (code === 'client_body_timeout') return { status: 408, code: 'client_body_timeout', reason: messageOf(err) };
  const app = context.app === undefined ? 'the app' : `app ${context.app}`;
  if (FD_EXHAUSTED.has(code)) {
    return { status: 503, code: 'overloaded', reason: `the gateway is out of file descriptors (${code})`, retryAfterS: OVERLOAD_RETRY_AFTER_S };
  }
  if (code === 'UPSTREAM_HEADERS_TIMEOUT') return { status: 504, code: 'upstream_timeout', reason: `${app} did not answer${within(context.responseTimeoutMs)}` };
  if (code === 'UPSTREAM_CONNECT_TIMEOUT') return { status: 504, code: 'upstream_timeout', reason: `${app} did not accept a connection${within(context.connectTimeoutMs)}` };
  if (code === 'ETIMEDOUT') return { status: 504, code: 'upstream_timeout', reason: `${app} did not answer in time (${code})` };
  if (code === 'ECONNREFUSED') return { status: 502, code: 'upstream_unavailable', reason: `${app} refused the connection` };
  if (code === 'ECONNRESET' || code === 'EPIPE') return { status: 502, code: 'upstream_unavailable', reason: `${app} closed the connection` };
  if (code === 'UPSTREAM_CLOSED') return { status: 502, code: 'upstream_unavailable', reason: `${app} ${messageOf(err).replace(/^the app /, '')}` };
  // The app's own response could not be relayed: the reason quotes what the app sent, which is the app's, not the gateway's.
  if (code === 'bad_upstream_response') return { status: 502, code: 'upstream_unavailable', reason: messageOf(err) };
  // Whatever else failed (EHOSTUNREACH naming an instance's address, say) is for the logs.
  return { status: 502, code: 'upstream_unavailable', reason: messageOf(err), publicReason: publicReason({ code: 'upstream_unavailable', reason: messageOf(err), status: 502, app: context.app }) };
}

function within(ms: number | undefined): string {
  return ms === undefined ? ' in time' : ` within ${ms / 1000} s`;
}
