import { SIGNAL_COUNTS_FOR_MS } from './ended-reason.js';

/**
 * Whether an exit told as the app's own (at `exit.atMs`, of an instance started at `exit.startedAtMs`) is the
 * leader's stop announced at `atMs`: announced after the instance started (not in its millisecond, as LeaderStops
 * says), and within a signal's span of the exit either way (the notice and the die event are not ordered). Pure.
 */
export function isLeaderStopExit(exit: { atMs: number; startedAtMs: number }, atMs: number): boolean {
  return atMs > exit.startedAtMs && Math.abs(atMs - exit.atMs) <= SIGNAL_COUNTS_FOR_MS;
}

/**
 * On a gateway that does not lead, why an exit is the leader's rollout retiring the instance, or undefined. Only
 * the leader rolls out, and this gateway took the new spec at the reconcile that began the rollout, so an
 * instance of another revision than the app's own is one the leader is replacing: its drain and removal reach
 * this gateway only as an exit (137, for the removal), which was told as the app's own, a crash. Pure.
 */
export function rolloutRetirement(instanceSpecHash: string, appSpecHash: string): string | undefined {
  return instanceSpecHash === appSpecHash ? undefined : 'replaced by the new revision';
}
