import type Docker from 'dockerode';

/** Default bound on one Engine API call (config `timeouts.engine`). */
export const DEFAULT_ENGINE_TIMEOUT_MS = 10_000;

/** The engine's own grace period when a stop call names none (Docker's StopTimeout default). */
const DEFAULT_STOP_GRACE_S = 10;

/** The code of the error a call fails with when the engine stays silent past its bound. */
export const ENGINE_TIMEOUT_CODE = 'ENGINE_TIMEOUT';

interface DialOptions {
  path?: string;
  isStream?: boolean;
  hijack?: boolean;
  abortSignal?: AbortSignal;
  options?: { t?: number } & Record<string, unknown>;
}
type DialCallback = (err: unknown, data?: unknown) => void;
type Dial = (options: DialOptions, callback: DialCallback) => void;

/**
 * Bounds every Engine API call of `docker` by `timeoutMs`, so a socket that accepts
 * but never answers fails calls instead of hanging cold starts forever.
 *
 * Wraps docker-modem's one entry point, `dial`, rather than each call site: no
 * call can be forgotten. A plain call is bounded until its whole answer arrived;
 * a stop call gets its own grace period on top. A stream (events, log follow,
 * pull) is bounded only until the engine answers its headers: once streaming, it
 * lives as long as its consumer wants. docker-modem's own `timeout` cannot do
 * this, as it is an idle timeout on every socket, streams included.
 */
export function boundEngineCalls(docker: Docker, timeoutMs: number): Docker {
  const modem = docker.modem as unknown as { dial: Dial };
  const dial = modem.dial.bind(modem);
  modem.dial = (options, callback) => {
    const boundMs = timeoutMs + stopGraceMs(options);
    const controller = new AbortController();
    let settled = false;
    // The caller hears of the timeout at once, whether or not the modem honours the abort.
    const timer = setTimeout(() => {
      settled = true;
      controller.abort();
      callback(engineTimeoutError(boundMs));
    }, boundMs);
    options.abortSignal = options.abortSignal ? AbortSignal.any([options.abortSignal, controller.signal]) : controller.signal;
    dial(options, (err, data) => {
      if (settled) {
        // Too late: a stream that arrives after all must not stay open.
        (data as { destroy?: () => void } | undefined)?.destroy?.();
        return;
      }
      settled = true;
      clearTimeout(timer);
      callback(err, data);
    });
  };
  return docker;
}

function stopGraceMs(options: DialOptions): number {
  if (!options.path || !/^\/containers\/[^/]+\/(stop|restart)\?/.test(options.path)) return 0;
  const t = options.options?.t;
  return (typeof t === 'number' && t >= 0 ? t : DEFAULT_STOP_GRACE_S) * 1000;
}

/** The error a silent engine gives; mapDockerError turns it into engine_unavailable. */
export function engineTimeoutError(timeoutMs: number): Error & { code: string; timeoutMs: number } {
  return Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: ENGINE_TIMEOUT_CODE, timeoutMs });
}
