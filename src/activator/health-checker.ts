import type { Logger } from 'pino';
import type { HealthSpec } from '../spec/types.js';
import type { Slot } from './instance-slot.js';
import { probeOnce } from './readiness.js';

export interface HealthCheckerOptions {
  logger: Logger;
  /** An instance crossed the unhealthy threshold; `reason` says what its last check saw. */
  onUnhealthy: (slot: Slot, reason: string) => void;
}

/**
 * Active health checks: every interval, each instance in rotation gets a GET
 * on the health path; after `unhealthyThreshold` failures in a row it is
 * reported, after `healthyThreshold` successes its count is cleared. One timer
 * per app, re-armed on spec changes.
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
    this.timer = setInterval(() => void this.round(spec, slots()).catch((err: unknown) => this.options.logger.error({ err }, 'health round failed')), spec.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.spec = undefined;
  }

  private async round(spec: HealthSpec, slots: readonly Slot[]): Promise<void> {
    await Promise.all(
      slots
        // An instance whose last check has not ended (a health endpoint that hangs, with a timeout longer than the
        // interval) is not checked again meanwhile: the rounds opened a connection each, piling up on an app that
        // was slow already, and counted one slow answer as many failures.
        .filter((s) => !s.draining && !s.unhealthy && !s.healthChecking)
        .map(async (slot) => {
          slot.healthChecking = true;
          // probeOnce never rejects: the flag always comes down.
          const result = await probeOnce(slot.upstream, { path: spec.path }, spec.timeoutMs, 'health check');
          slot.healthChecking = false;
          if (result.ready) {
            slot.healthOks++;
            if (slot.healthOks >= spec.healthyThreshold) slot.healthFails = 0;
            return;
          }
          slot.healthOks = 0;
          slot.healthFails++;
          if (slot.healthFails >= spec.unhealthyThreshold) {
            const reason = healthFailure(spec.path, result.reason, result.silent === true);
            this.options.logger.warn({ app: slot.upstream.app, instance: slot.instance.name, reason }, 'health check failed');
            this.options.onUnhealthy(slot, reason);
          }
        }),
    );
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
