import type { Logger } from 'pino';
import type { HealthSpec } from '../spec/types.js';
import type { Slot } from './instance-slot.js';
import { probeOnce, type ProbeTarget } from './readiness.js';

export interface HealthCheckerOptions {
  logger: Logger;
  /** An instance crossed the unhealthy threshold; `reason` says what its last check saw. */
  onUnhealthy: (slot: Slot, reason: string) => void;
}

/** An instance's run of health checks: failures and successes in a row (one of them is always 0). */
export interface HealthCount {
  fails: number;
  oks: number;
}

/** What one check's outcome decides: take the instance out (`eject`), let an ejected one back (`rejoin`), or nothing yet. */
export interface HealthStep extends HealthCount {
  verdict?: 'eject' | 'rejoin';
}

/**
 * One check's outcome on an instance's run, as Envoy's thresholds count: both thresholds are of checks
 * in a row, so any success ends a run of failures and any failure a run of successes. An instance in
 * rotation is ejected after `unhealthyThreshold` failures in a row; an ejected one rejoins after
 * `healthyThreshold` successes in a row. The failures used to be cleared only after `healthyThreshold`
 * successes, so with a threshold above 1 an instance that flapped (fail, ok, fail, ok, fail) was ejected
 * for three failures that were never consecutive. Pure.
 */
export function healthStep(count: HealthCount, ok: boolean, ejected: boolean, spec: Pick<HealthSpec, 'unhealthyThreshold' | 'healthyThreshold'>): HealthStep {
  if (ok) {
    const oks = count.oks + 1;
    return ejected && oks >= spec.healthyThreshold ? { fails: 0, oks, verdict: 'rejoin' } : { fails: 0, oks };
  }
  const fails = count.fails + 1;
  return !ejected && fails >= spec.unhealthyThreshold ? { fails, oks: 0, verdict: 'eject' } : { fails, oks: 0 };
}

/**
 * Whether an instance that crossed its unhealthy threshold may be taken out now: not while another
 * instance of the app is out for its health (being restarted, or waiting to pass its checks again).
 * Restarts go one at a time, so when every instance fails at once (a database they all check is down)
 * the others keep serving instead of all being restarted together and the app serving nothing. An
 * instance held back keeps its count and is taken out at its next failed check once the other is back.
 * Pure.
 */
export function mayEject(slot: Slot, slots: readonly Slot[]): boolean {
  return !slots.some((s) => s !== slot && s.unhealthy);
}

/**
 * Active health checks: every interval, each instance in rotation gets a GET
 * on the health path, counted by healthStep (a 2xx or 3xx answer is a success);
 * after `unhealthyThreshold` failures in a row it is reported, one instance of
 * the app at a time (mayEject). One timer per app, re-armed on spec changes.
 */
export class HealthChecker {
  private timer?: NodeJS.Timeout;
  private spec?: HealthSpec;

  constructor(private readonly options: HealthCheckerOptions) {}

  start(spec: HealthSpec, slots: () => readonly Slot[]): void {
    if (this.timer && this.spec === spec) return;
    this.stop();
    this.spec = spec;
    // A round must never reject out of the timer: an unhandled rejection ends the process.
    this.timer = setInterval(() => void this.round(spec, slots).catch((err: unknown) => this.options.logger.error({ err }, 'health round failed')), spec.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.spec = undefined;
  }

  private async round(spec: HealthSpec, slots: () => readonly Slot[]): Promise<void> {
    await Promise.all(
      slots()
        // An instance whose last check has not ended (a health endpoint that hangs, with a timeout longer than the
        // interval) is not checked again meanwhile: the rounds opened a connection each, piling up on an app that
        // was slow already, and counted one slow answer as many failures.
        .filter((s) => !s.draining && !s.unhealthy && !s.healthChecking)
        .map(async (slot) => {
          slot.healthChecking = true;
          // checkHealth never rejects: the flag always comes down.
          const result = await checkHealth(slot.upstream, spec);
          slot.healthChecking = false;
          const step = healthStep({ fails: slot.healthFails, oks: slot.healthOks }, result.ok, false, spec);
          slot.healthFails = step.fails;
          slot.healthOks = step.oks;
          // The slots as they are now: another instance may have been taken out while this check was under way.
          if (result.ok || step.verdict !== 'eject' || slot.unhealthy || !mayEject(slot, slots())) return;
          this.options.logger.warn({ app: slot.upstream.app, instance: slot.instance.name, reason: result.reason }, 'health check failed');
          this.options.onUnhealthy(slot, result.reason);
        }),
    );
  }
}

/** A 2xx or 3xx answer, as Kubernetes' httpGet probe and Traefik's health check count it: a 404 (a mistyped path) is no proof of health. Pure. */
export function healthyStatus(status: number): boolean {
  return status >= 200 && status < 400;
}

/** One health check of an instance: `reason` says what a failed one saw. Never rejects. */
export async function checkHealth(target: ProbeTarget, spec: Pick<HealthSpec, 'path' | 'timeoutMs'>): Promise<{ ok: true; reason?: undefined } | { ok: false; reason: string }> {
  const result = await probeOnce(target, { path: spec.path }, spec.timeoutMs, 'health check', healthyStatus);
  return result.ready ? { ok: true } : { ok: false, reason: healthFailure(spec.path, result.reason, result.silent === true) };
}

/**
 * Waits until an instance taken out for its health (and restarted) passes `healthyThreshold` checks in a
 * row, one every interval, the first at once; false when `deadline` (a `performance.now()` time) passes
 * first or `stillWanted` says no more. Its failures meanwhile only end its run of successes. True at once
 * when `takeBack` says so after a check (the app has no other instance left in rotation: see passesHealthAgain).
 */
export async function awaitHealthy(
  target: ProbeTarget,
  spec: HealthSpec,
  deadline: number,
  stillWanted: () => boolean = () => true,
  takeBack: () => boolean = () => false,
): Promise<{ ok: boolean; reason?: string }> {
  let count: HealthCount = { fails: 0, oks: 0 };
  let reason: string | undefined;
  for (;;) {
    const result = await checkHealth(target, spec);
    reason = result.reason ?? reason;
    const step = healthStep(count, result.ok, true, spec);
    if (step.verdict === 'rejoin') return { ok: true };
    // Asked at every check, not once before the first: the others may leave the rotation while this one waits.
    if (stillWanted() && takeBack()) return { ok: true };
    count = step;
    if (!stillWanted() || performance.now() + spec.intervalMs > deadline) return { ok: false, ...(reason ? { reason } : {}) };
    // Unref'd: a wait for an instance must not hold a closing gateway's process open.
    await new Promise((resolve) => setTimeout(resolve, spec.intervalMs).unref());
  }
}

/**
 * What a failed health check saw, naming the check: an answer's status says so already
 * ("health check /healthz answered 503"); no answer at all (refused, reset, timed out) is
 * told with the path it was asked on. Pure.
 */
export function healthFailure(path: string, reason: string, silent: boolean): string {
  return silent ? `health check ${path}: ${reason}` : reason;
}
