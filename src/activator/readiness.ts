import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { formatDuration } from '../spec/duration.js';
import type { ReadinessSpec } from '../spec/types.js';
import { containerExited } from '../runtime/runtime.js';

export interface ProbeTarget {
  host: string;
  port: number;
}

/**
 * `silent`: the last attempt got no HTTP answer at all (refused, reset, timed out), as opposed to a bad status;
 * `timedOut`: it was cut off at its own timeout.
 */
export type ProbeResult = { ready: true } | { ready: false; reason: string; silent?: boolean; timedOut?: boolean };

/** What a probe is, as its failure's reason names it: a health check's 503 told as a readiness check's sent its author to the wrong path. */
export type ProbeKind = 'readiness check' | 'health check';

/** Most bytes of a probe answer's body read before its connection is closed. */
const PROBE_BODY_BYTES = 64 * 1024;

/**
 * One readiness attempt. With a readiness path, a status below 500 means ready.
 * Without one, any HTTP answer to `GET /` does: a plain TCP connect would prove
 * nothing, because docker-proxy accepts connections on the published port
 * before the app inside listens, and only then resets them.
 */
export function probeOnce(
  target: ProbeTarget,
  readiness: ReadinessSpec,
  timeoutMs: number,
  check: ProbeKind = 'readiness check',
  // Readiness: any status below 500 (an app that is up answers, even a 404); a health check asks for more (healthyStatus).
  good: (status: number) => boolean = (status) => status < 500,
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const onAnswer = (res: IncomingMessage) => {
      // The status is the answer; the body is read only to its bound and to the probe's time. An app whose path
      // streams without end (an event stream, a video at `/`) kept every probe's connection open, reading, for good.
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > PROBE_BODY_BYTES) res.destroy();
      });
      res.on('end', () => clearTimeout(timer));
      res.on('error', () => undefined);
      const status = res.statusCode ?? 0;
      if (readiness.path === undefined || good(status)) resolve({ ready: true });
      else resolve({ ready: false, reason: `${check} ${readiness.path} answered ${status}` });
    };
    let req: ClientRequest;
    try {
      req = request({ host: target.host, port: target.port, path: readiness.path ?? '/', method: 'GET', agent: false, headers: { 'user-agent': 'berth-readiness' } }, onAnswer);
    } catch (err) {
      // A path Node cannot write (a spec stored before fields.ts refused it): a failed probe, never an exception out of a timer.
      resolve({ ready: false, reason: `${check} ${readiness.path}: ${(err as Error).message}` });
      return;
    }
    // Past the answer too: a body still coming when the probe's time is up is cut off.
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      req.destroy(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      resolve({ ready: false, reason: err.message, silent: true, ...(timedOut ? { timedOut } : {}) });
    });
    req.end();
  });
}

export interface WaitOptions {
  deadline: number;
  /** The app's startTimeout as configured, named in the reason when the deadline passes. */
  startTimeoutMs?: number;
  /** Checked between attempts; a non-empty answer aborts the wait with that reason. */
  stillStarting?: () => Promise<string | undefined>;
  signal?: AbortSignal;
}

/**
 * Polls until ready or the deadline (a `performance.now()` time) passes.
 * Attempts start a couple of milliseconds apart with a 25 ms timeout, so a
 * fast app is seen within milliseconds, then back off so a slow one is not
 * hammered. Every few attempts `stillStarting` lets the caller notice a
 * container that has already exited instead of waiting out the deadline.
 */
export async function waitUntilReady(target: ProbeTarget, readiness: ReadinessSpec, options: WaitOptions): Promise<ProbeResult> {
  const began = performance.now();
  let delayMs = 2;
  let timeoutMs = 25;
  let nextExitCheck = began + EXIT_CHECK_EVERY_MS;
  let last: ProbeResult | undefined;
  for (;;) {
    if (options.signal?.aborted) return { ready: false, reason: 'start cancelled' };
    const now = performance.now();
    const left = options.deadline - now;
    // A start whose engine calls used up the budget is still probed once, so its failure says what was there.
    if (left <= 0) {
      // A container that crashed is the better answer than the probe's "socket hang up":
      // the engine may have been slow to report the exit during the wait.
      const gone = options.stillStarting ? await options.stillStarting().catch(() => undefined) : undefined;
      if (gone) return { ready: false, reason: gone };
      last ??= await probeOnce(target, readiness, LAST_CHANCE_PROBE_MS);
      return last.ready ? last : { ready: false, reason: notReadyInTime(options.startTimeoutMs, lastProbeSaw(last)), silent: last.silent === true };
    }
    last = await probeOnce(target, readiness, Math.min(timeoutMs, Math.max(left, 1)));
    if (last.ready) return last;
    // An engine inspect costs a millisecond or so: often enough to fail fast on a crash, not on every probe.
    if (options.stillStarting && performance.now() >= nextExitCheck) {
      nextExitCheck = performance.now() + EXIT_CHECK_EVERY_MS;
      const gone = await options.stillStarting();
      if (gone) return { ready: false, reason: gone };
    }
    await sleep(Math.min(delayMs, Math.max(options.deadline - performance.now(), 0)));
    // Most apps are ready within a few hundred milliseconds: poll tightly until then, then back off.
    if (performance.now() - began > TIGHT_POLL_MS) delayMs = Math.min(delayMs * 2, 100);
    timeoutMs = Math.min(timeoutMs * 2, 1_000);
  }
}

/**
 * The reason of a start that ran out of time. It names the app's startTimeout as configured: the time
 * left of it, which the last probe's own timeout was cut to, read "no answer within 2.86 ms", which
 * says nothing its author can act on. Pure; `startTimeoutMs` undefined where no app's timeout applies.
 */
export function notReadyInTime(startTimeoutMs: number | undefined, why: string): string {
  return startTimeoutMs === undefined ? `not ready in time: ${why}` : `not ready in time (the app's startTimeout is ${formatDuration(startTimeoutMs)}): ${why}`;
}

/** What the last probe saw, in words about the app rather than about the probe's own timeout. */
function lastProbeSaw(last: { reason: string; timedOut?: boolean }): string {
  return last.timedOut ? 'the last readiness check got no answer' : last.reason;
}

/** The timeout of the one probe made when the deadline passed before any. */
const LAST_CHANCE_PROBE_MS = 250;
/** How long readiness is polled every couple of milliseconds before backing off. */
const TIGHT_POLL_MS = 500;
/** How often a start in progress asks the engine whether the container already exited. */
const EXIT_CHECK_EVERY_MS = 50;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * For images with a Docker HEALTHCHECK, the engine's verdict is the readiness
 * signal: polled through inspect (a couple of milliseconds each), quickly at
 * first and backing off, until healthy, the container exits, or the deadline.
 */
export async function waitUntilHealthy(
  inspect: () => Promise<{ state: string; health: string; exitCode?: number } | undefined>,
  deadline: number,
  signal?: AbortSignal,
  startTimeoutMs?: number,
): Promise<ProbeResult> {
  let delayMs = 5;
  let health = 'starting';
  while (performance.now() < deadline) {
    if (signal?.aborted) return { ready: false, reason: 'start cancelled' };
    const now = await inspect();
    if (!now) return { ready: false, reason: 'the container disappeared' };
    if (now.state === 'exited' || now.state === 'dead') return { ready: false, reason: containerExited(now.exitCode) };
    health = now.health;
    if (health === 'healthy') return { ready: true };
    await sleep(Math.min(delayMs, Math.max(deadline - performance.now(), 0)));
    delayMs = Math.min(delayMs * 2, 200);
  }
  return { ready: false, reason: notReadyInTime(startTimeoutMs, `Docker's health check says ${health}`) };
}

/**
 * The reason of a start whose probes got no HTTP answer, saying what berth saw and,
 * when the image EXPOSEs other ports than the one dialled, which: the usual cause
 * is a spec naming the wrong port; on the right one, an app bound to 127.0.0.1
 * inside its container. Pure; `exposed` undefined when unknown.
 */
export function silentReason(reason: string, port: number, exposed: readonly number[] | undefined): string {
  const said = `${reason}; nothing answered on container port ${port}`;
  // The right port and still silent: most often an app bound to its container's own loopback, which nothing outside reaches.
  if (exposed === undefined || exposed.includes(port)) return `${said}; an app listening there must listen on all addresses (0.0.0.0), not 127.0.0.1`;
  if (exposed.length === 0) return `${said}; the image exposes no port`;
  return `${said}; the image exposes ${exposed.join(', ')}`;
}
