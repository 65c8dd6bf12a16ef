/**
 * Default of `limits.startSlotHold`: most apps that will ever answer do so well
 * within it, and a slot held longer by one that does not answer is taken from a
 * healthy app's start, not from the engine's load.
 */
export const DEFAULT_START_SLOT_HOLD_MS = 10_000;
/** The same, as the config file writes it. */
export const DEFAULT_START_SLOT_HOLD = '10s';

/**
 * When a start gives its start slot back before it ends (performance.now() ms),
 * or undefined: it holds it to its end. Pure.
 *
 * The slot bounds the burst a cold start puts on the engine and the host: the
 * engine's create and start calls, and the first stretch of the app's boot,
 * when it takes the most CPU and memory. Past that, a container that has not
 * answered its readiness check costs the engine nothing more; held until its
 * start timeout, 32 such apps (a wrong port, a health path that 404s, an app
 * that sleeps) took every slot from every other app's start for minutes.
 *
 * - `readinessSince` undefined: the engine calls are under way; kept, however
 *   long they take (a slow engine is what the bound is for).
 * - waiting for readiness since `readinessSince`: given back `holdMs` later, the
 *   start going on outside the slots, with its own timeout, state and reason;
 *   kept to the end when its `deadline` comes first (it then ends by itself).
 *
 * A container removed behind berth's back mid-start is made anew once
 * (instance-slot.ts), outside the slot if it was given back by then: one more
 * create and start per start at most, which does not add up to a burst. (With
 * several gateways, not once the start has let its app's lease go, which it
 * does as its container runs: app-controller.ts.)
 */
export function slotGiveBackAt(readinessSince: number | undefined, holdMs: number, deadline: number): number | undefined {
  if (readinessSince === undefined) return undefined;
  const at = readinessSince + Math.max(0, holdMs);
  return at < deadline ? at : undefined;
}
