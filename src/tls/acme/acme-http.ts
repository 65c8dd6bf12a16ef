import { AsyncLocalStorage } from 'node:async_hooks';

/** acme-client's exports (its Client, crypto helpers and axios instance). */
export type AcmeLibrary = typeof import('acme-client');

let library: Promise<AcmeLibrary> | undefined;

/**
 * acme-client, loaded by the first order and not with the gateway: with axios it
 * is 1-3 s of a busy machine's time, paid by every `berth serve` start (and every
 * process that loads the gateway) though only a gateway with tls.acme uses it.
 */
export function loadAcmeLibrary(): Promise<AcmeLibrary> {
  return (library ??= import('acme-client'));
}

/** How long the ACME server may take to answer one request (axios waits for ever by default). */
export const REQUEST_TIMEOUT_MS = 30_000;
/**
 * The most bytes of one answer of the ACME server (axios buffers any size by
 * default: a CA, or anything at its address, sending without end would fill
 * the gateway's memory until the request timed out). A directory, an order or
 * a certificate chain is a few KiB.
 */
export const MAX_ANSWER_BYTES = 1024 * 1024;
/**
 * The longest Retry-After acme-client is left to sleep out inside an order.
 * A longer one (a rate limit: Let's Encrypt asks for hours) fails the order at
 * once and sets when berth asks again, instead of holding every other host's
 * order behind a sleep nothing can end.
 */
export const RETRY_AFTER_MAX_S = 10;

/** The CA asked berth to come back later than RETRY_AFTER_MAX_S (429 or 503 with Retry-After). */
export class AcmeRateLimitedError extends Error {
  readonly code = 'acme_rate_limited';
  constructor(
    readonly retryAfterS: number,
    status: number,
    url: string,
    detail: string | undefined,
  ) {
    super(`the ACME server answered ${status} to ${url} and asks to wait ${retryAfterS} s${detail ? `: ${detail}` : ''}`);
  }
}

/** One request of an order the ACME server did not answer in REQUEST_TIMEOUT_MS, or of an order given up. */
export class AcmeRequestError extends Error {
  readonly code = 'acme_request_failed';
}

/** What berth makes of a failed ACME request before acme-client sees it: its own error, or undefined to leave it to acme-client. */
export function ownRequestFailure(failure: { code?: string; message?: string; status?: number; retryAfter?: string; detail?: string; url: string; timeoutMs: number }, nowMs: number): Error | undefined {
  if (failure.code === 'ERR_CANCELED') return new AcmeRequestError(`the order was given up before ${failure.url} answered`);
  // Past the bound axios ends the answer (no response, so acme-client would fetch it 5 times more): one is enough to know.
  if (failure.code === 'ERR_BAD_RESPONSE' && failure.message?.startsWith('maxContentLength size of ')) return new AcmeRequestError(`the ACME server's answer to ${failure.url} is larger than ${MAX_ANSWER_BYTES} bytes`);
  if (failure.code === 'ECONNABORTED' || failure.code === 'ETIMEDOUT') return new AcmeRequestError(`the ACME server did not answer ${failure.url} within ${failure.timeoutMs / 1000} s`);
  if (failure.status !== 429 && failure.status !== 503) return undefined;
  const waitS = retryAfterSeconds(failure.retryAfter, nowMs);
  return waitS > RETRY_AFTER_MAX_S ? new AcmeRateLimitedError(waitS, failure.status, failure.url, failure.detail) : undefined;
}

/** Retry-After as seconds from now: a number of seconds or an HTTP date (RFC 9110 §10.2.3); 0 when absent or past. */
export function retryAfterSeconds(value: string | undefined, nowMs: number): number {
  if (value === undefined) return 0;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? 0 : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/** The order each ACME request is made for, so giving up an order aborts its requests. */
const orderSignal = new AsyncLocalStorage<AbortSignal>();

/** Runs `order` so that every ACME request it makes is aborted with `signal`. */
export function runOrder<T>(signal: AbortSignal, order: () => Promise<T>): Promise<T> {
  return orderSignal.run(signal, order);
}

let installed = false;

/**
 * Bounds acme-client's HTTP (its axios instance, shared by the process): each
 * request times out, carries its order's abort signal, and a failure berth
 * decides itself (above) reaches acme-client as an error without `config`,
 * which its retry handler passes on untouched (a timeout or an abort is not
 * retried 5 times, a long Retry-After not slept out).
 */
export function installAcmeHttp(acme: AcmeLibrary): void {
  if (installed) return;
  installed = true;
  const http = acme.axios;
  http.defaults.timeout = REQUEST_TIMEOUT_MS;
  http.defaults.maxContentLength = MAX_ANSWER_BYTES;
  http.interceptors.request.use((config) => {
    const signal = orderSignal.getStore();
    if (signal !== undefined) config.signal = signal;
    return config;
  });
  // acme-client's own handler was added when it loaded; berth's must run first, so it goes in front.
  const handlers = (http.interceptors.response as unknown as { handlers: unknown[] }).handlers;
  handlers.unshift({
    fulfilled: undefined,
    rejected: (error: { code?: string; message?: string; config?: { url?: string }; response?: { status?: number; headers?: Record<string, string>; data?: unknown } }) => {
      const data = error.response?.data as { detail?: unknown } | undefined;
      const own = ownRequestFailure(
        {
          code: error.code,
          message: error.message,
          status: error.response?.status,
          retryAfter: error.response?.headers?.['retry-after'],
          detail: typeof data?.detail === 'string' ? data.detail : undefined,
          url: error.config?.url ?? 'the ACME server',
          timeoutMs: REQUEST_TIMEOUT_MS,
        },
        Date.now(),
      );
      return Promise.reject(own ?? error);
    },
    synchronous: false,
    runWhen: null,
  });
}
