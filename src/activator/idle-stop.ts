import type { Logger } from 'pino';
import { messageOf } from '../errors.js';
import type { IdleClock } from './idle-clock.js';
import type { IdleStopSlots } from './idle-stop-slots.js';

/** How often a gateway that does not lead looks again at an app whose idle timeout ran out (it may lead by then). */
const FOLLOWER_IDLE_RECHECK_MS = 1_000;

/** What the idle timeout running out comes to (see idleTimeoutStep). */
export type IdleTimeoutStep = 'ignore' | 'recheck' | 'stop';

/**
 * When an app's idle timeout runs out: nothing unless it runs, may scale to zero and is not closed; a gateway
 * that does not lead looks again later (only the leader stops apps, and this one may lead by then); the one
 * that leads stops (or pauses) it. Pure.
 */
export function idleTimeoutStep(facts: { running: boolean; scalesToZero: boolean; closed: boolean; acts: boolean }): IdleTimeoutStep {
  if (!facts.running || !facts.scalesToZero || facts.closed) return 'ignore';
  return facts.acts ? 'stop' : 'recheck';
}

/** What stopping an idle app needs of it. */
export interface IdleStopHost {
  app: string;
  logger: Logger;
  idle: IdleClock;
  /** The gateway's bound on idle stops under way at once (idle-stop-slots.ts). Absent: none. */
  slots?: IdleStopSlots;
  /** The barrier with proxy workers and other gateways (AppControllerDeps.quiesce). */
  quiesce?: (app: string) => Promise<void>;
  running: () => boolean;
  /** scale.min is 0. */
  scalesToZero: () => boolean;
  closed: () => boolean;
  acts: () => boolean;
  /** Runs `step` in turn with the app's lifecycle steps. */
  serial: (step: () => Promise<void>) => Promise<void>;
  /** Runs `work` under the app's lease across gateways. */
  leased: (waitMs: number, work: () => Promise<void>) => Promise<void>;
  fire: (event: 'stop' | 'paused', reason: string) => void;
  /** The app freezes when idle: idleAction pause, on a runtime that can thaw. */
  pauses: () => boolean;
  /** Freezes the running containers; false when the engine refused (pauseInstances). */
  pause: () => Promise<boolean>;
  stopAll: (why: string) => Promise<void>;
}

/** Stops or pauses an app once its idle clock runs out, unless activity came in meanwhile. */
export class IdleStop {
  private recheck?: NodeJS.Timeout;

  constructor(private readonly host: IdleStopHost) {}

  /** The idle clock ran out. */
  onIdle(): void {
    const { host } = this;
    clearTimeout(this.recheck);
    const step = idleTimeoutStep({ running: host.running(), scalesToZero: host.scalesToZero(), closed: host.closed(), acts: host.acts() });
    if (step === 'ignore') return;
    if (step === 'recheck') {
      this.recheck = setTimeout(() => {
        if (host.idle.isIdle()) this.onIdle();
      }, FOLLOWER_IDLE_RECHECK_MS);
      this.recheck.unref();
      return;
    }
    const slots = host.slots;
    // Waited for outside the app's steps: the app serves meanwhile, and a request calls the stop off.
    const stopped = !slots
      ? this.stop()
      : slots.acquire().then((release) => {
          if (release) return this.stop().finally(release);
          // No slot within the wait (or the gateway closed): queued anew if the app is still idle.
          if (!host.closed() && host.idle.isIdle()) this.onIdle();
        });
    stopped.catch((err: unknown) => host.logger.warn({ app: host.app, err: messageOf(err) }, 'idle stop failed'));
  }

  /** No look again later: the app is closed. */
  close(): void {
    clearTimeout(this.recheck);
  }

  /** The idle stop (or pause) itself, as one of the app's steps; it looks again whether the app is still idle. */
  private stop(): Promise<void> {
    const { host } = this;
    return host.serial(() =>
      host.leased(30_000, async () => {
        // Checked inside the step: a request may have come (or still be in flight) since the timer fired.
        if (!host.idle.isIdle() || !host.running() || host.closed() || !host.acts()) return;
        if (host.quiesce) {
          // Proxy workers and other gateways report in batches: their activity is known for sure only after the barrier.
          await host.quiesce(host.app);
          if (!host.idle.isIdle() || !host.running() || !host.acts()) return;
        }
        host.fire('stop', 'idle');
        // A runtime that cannot freeze (Swarm: no unpause, its pause scales to 0) stops: the app
        // read paused, counted as up, until a resync found it stopped and said the engine changed it.
        if (!host.pauses()) return host.stopAll('idle');
        if (!(await host.pause())) return host.stopAll('idle (pause failed)');
        host.fire('paused', 'idle');
        host.logger.info({ app: host.app }, 'app paused after being idle');
      }),
    );
  }
}
