import type Docker from 'dockerode';
import { shownBriefly } from './engine-agent.js';

/** Default bound on one Engine API call (config `timeouts.engine`). */
export const DEFAULT_ENGINE_TIMEOUT_MS = 30_000;

/** The engine's own grace period when a stop call names none (Docker's StopTimeout default). */
export const DEFAULT_STOP_GRACE_S = 10;

/** The code of the error a call fails with when the engine stays silent past its bound. */
export const ENGINE_TIMEOUT_CODE = 'ENGINE_TIMEOUT';

interface DialOptions {
  path?: string;
  method?: string;
  statusCodes?: Record<number, boolean | string>;
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
 *
 * A call still waiting after `probeAfterMs` has the engine pinged (one ping at a
 * time, bounded): when the ping gets no answer either, the engine is hung or gone
 * and every waiting call fails at once, so a cold start on a black-holed engine is
 * answered 503 in seconds; a slow but alive engine keeps the full bound.
 */
export function boundEngineCalls(docker: Docker, timeoutMs: number, probeAfterMs = DEFAULT_PROBE_AFTER_MS): Docker {
  const modem = docker.modem as unknown as { dial: Dial };
  const dial = modem.dial.bind(modem);
  /** Calls still waiting for the engine, each with how to fail it at once. */
  const pending = new Set<(err: Error) => void>();
  let probing = false;
  // A call that is slow makes berth ask the engine whether it is there at all: a hung
  // engine fails every waiting call within a few seconds instead of at timeoutMs.
  const probe = () => {
    if (probing || pending.size === 0) return;
    probing = true;
    const probeMs = Math.min(PROBE_TIMEOUT_MS, timeoutMs);
    let answered = false;
    const conclude = (alive: boolean) => {
      if (answered) return;
      answered = true;
      clearTimeout(guard);
      probing = false;
      if (alive) return; // Only slow: the calls keep their own bound.
      const down = Object.assign(new Error(`the engine did not answer a ping within ${probeMs} ms`), { code: ENGINE_TIMEOUT_CODE, timeoutMs: probeMs });
      for (const fail of [...pending]) fail(down);
    };
    // Not left to the modem's abort alone: the verdict comes in bounded time either way.
    const guard = setTimeout(() => conclude(false), probeMs + 100);
    dial({ path: '/_ping', method: 'GET', statusCodes: { 200: true, 500: 'server error' }, abortSignal: AbortSignal.timeout(probeMs) }, (err) => conclude(!err));
  };
  modem.dial = (options, callback) => {
    const boundMs = timeoutMs + stopGraceMs(options);
    const controller = new AbortController();
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      cleanup();
      controller.abort();
      callback(err);
    };
    // The caller hears of the timeout at once, whether or not the modem honours the abort.
    const timer = setTimeout(() => fail(engineTimeoutError(boundMs)), boundMs);
    const probeTimer = probeAfterMs < boundMs ? setTimeout(probe, probeAfterMs) : undefined;
    const cleanup = () => {
      clearTimeout(timer);
      clearTimeout(probeTimer);
      pending.delete(fail);
    };
    pending.add(fail);
    options.abortSignal = options.abortSignal ? AbortSignal.any([options.abortSignal, controller.signal]) : controller.signal;
    // docker-modem's debug line formats the signal with its hidden state on every call (see shownBriefly).
    shownBriefly(options.abortSignal, 'AbortSignal');
    dial(options, (err, data) => {
      if (settled) {
        // Too late: a stream that arrives after all must not stay open.
        (data as { destroy?: () => void } | undefined)?.destroy?.();
        return;
      }
      settled = true;
      cleanup();
      callback(err, data);
    });
  };
  return docker;
}

/** How long a call may wait before the engine is pinged to tell a slow engine from a hung one. */
const DEFAULT_PROBE_AFTER_MS = 3_000;
/** How long that ping may take. */
const PROBE_TIMEOUT_MS = 5_000;

function stopGraceMs(options: DialOptions): number {
  if (!options.path || !/^\/containers\/[^/]+\/(stop|restart)\?/.test(options.path)) return 0;
  const t = options.options?.t;
  return (typeof t === 'number' && t >= 0 ? t : DEFAULT_STOP_GRACE_S) * 1000;
}

/** The error a silent engine gives; mapDockerError turns it into engine_unavailable. */
export function engineTimeoutError(timeoutMs: number): Error & { code: string; timeoutMs: number } {
  return Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: ENGINE_TIMEOUT_CODE, timeoutMs });
}
