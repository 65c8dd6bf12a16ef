import type { StoredFailure } from '../store/store.js';
import type { AppState } from './app-status.js';

/** What the store is told of an app's failure after a transition: keep it (anew), forget it, or nothing. */
export type FailureKeeping = 'keep' | 'forget' | 'leave';

/** Keeps an app's failure in the store, or forgets it (undefined); never rejects (see FailureKeeper). */
export type KeepFailure = (app: string, failure: StoredFailure | undefined) => void;

/**
 * Whether an app that just moved to `next` has its failure kept across a gateway
 * restart. Pure. A failure (failed, crashloop) is kept, again at each new failure,
 * while there is a lastError to tell; a start under way leaves what is kept as it
 * is (it may fail as well, and a gateway killed mid-start still shows the failure);
 * any other state (running, stopped, paused…) means the app is past it.
 * `kept`: whether this controller put a failure in the store (or took one from it).
 * Serving is forgotten whatever `kept` says: with several gateways another one may
 * have kept the failure this gateway never saw (it led then), and a start that
 * works must not leave it for the next restart to show.
 */
export function failureKeeping(next: AppState, hasError: boolean, kept: boolean): FailureKeeping {
  if ((next === 'failed' || next === 'crashloop') && hasError) return 'keep';
  if (next === 'running') return 'forget';
  if (next === 'starting' || !kept) return 'leave';
  return 'forget';
}
