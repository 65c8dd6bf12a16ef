import type { Instance, Runtime } from '../runtime/runtime.js';
import type { AppSpec } from '../spec/types.js';
import { startSlot, type Slot } from './instance-slot.js';

/** An instance that dies sooner than this after becoming ready counts as a crash. */
export const EARLY_EXIT_MS = 30_000;

/** What berth knows when the engine reports one of an app's containers dead. */
export interface ExitFacts {
  /** The container is one of the app's slots. */
  tracked: boolean;
  /** berth took it out of rotation itself (draining for a stop, or restarting after failed health checks): its death is berth's doing. */
  outOfRotation: boolean;
  appRunning: boolean;
  /** The event is about an earlier run of the container (it was started again since). */
  stale: boolean;
  /** Slots left serving once this one is gone. */
  othersLeft: number;
  exitCode: number | undefined;
  /** How long it had been ready. */
  upForMs: number;
  /** The app must always run (scale.min ≥ 1): berth restarts it, so even a clean exit is a failure that counts. */
  mustRun: boolean;
  /** A signal from outside berth ended it (`docker kill`, `docker stop`): the operator's doing, not the app's crash. */
  signalled?: boolean;
}

export type ExitDecision =
  /** Not an unexpected exit: berth caused it, or it is old news. */
  | { kind: 'ignore' }
  /** Others still serve: the lost replica is replaced. */
  | { kind: 'replace'; crashed: boolean }
  /** The last instance died: the app is down; `early` crashes count towards a crash loop. */
  | { kind: 'last'; crashed: boolean; early: boolean };

/** Decides what an instance's exit means for its app; pure. */
export function exitDecision(facts: ExitFacts): ExitDecision {
  if (!facts.tracked || facts.outOfRotation || !facts.appRunning || facts.stale) return { kind: 'ignore' };
  // An app that quits by itself when idle exits 0, and a request wakes it; one berth restarts at once must not be
  // restarted in a tight loop because it says 0.
  // Killed from outside, it did not crash: it is neither the app's failure nor a step towards a crash loop.
  const crashed = facts.exitCode !== undefined && (facts.exitCode !== 0 || facts.mustRun) && !facts.signalled;
  if (facts.othersLeft > 0) return { kind: 'replace', crashed };
  return { kind: 'last', crashed, early: facts.upForMs < EARLY_EXIT_MS };
}

/**
 * Restarts a failing instance in place (same container, same index) and waits
 * until it is ready again; throws when it does not come back.
 */
export async function restartSlot(runtime: Runtime, spec: AppSpec, slot: Slot): Promise<Slot> {
  await runtime.stop(slot.instance.id, { timeoutS: 5 });
  return startSlot(runtime, spec, slot.index, performance.now() + spec.startTimeoutMs, slot.instance);
}

/**
 * Asks the engine, for up to `forMs`, whether an instance the proxy could not
 * reach has died: an app that quits by itself races the engine's die event,
 * which the engine records a few milliseconds after the fact. Answers the
 * dead instance's last record ({} when it is gone altogether), false while it
 * still runs, or 'handled' once `stillTracked` says berth moved on meanwhile.
 */
export async function whetherGone(runtime: Runtime, slot: Slot, stillTracked: () => boolean, forMs: number): Promise<Partial<Instance> | false | 'handled'> {
  const deadline = performance.now() + forMs;
  for (;;) {
    const now = await runtime.inspect(slot.instance.id).catch(() => undefined);
    if (!stillTracked()) return 'handled';
    if (!now) return {};
    if (now.state === 'exited' || now.state === 'dead') return now;
    if (performance.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
