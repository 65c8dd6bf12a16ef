import { BerthError, type ErrorCode } from '../errors.js';
import type { StoredFailure } from '../store/store.js';
import type { AppState } from './app-status.js';

/** What the store is told of an app's failure after a transition: keep it (anew), forget it, or nothing. */
export type FailureKeeping = 'keep' | 'forget' | 'leave';

/** Keeps an app's failure in the store, or forgets it (undefined); never rejects (see FailureKeeper). */
export type KeepFailure = (app: string, failure: StoredFailure | undefined) => void;

/**
 * Whose a failure is: the app's own (it exited, was killed for lack of memory, was not ready in
 * time, its image is missing, it loops, the policy refuses it), or the gateway's surroundings'
 * (the engine did not answer, every start slot stayed busy, the store could not be reached),
 * which says nothing of the app and is gone once they are back.
 */
export type FailureOwner = 'app' | 'surroundings';

/** The catalogue codes of the surroundings' failures: each is answered 503 with Retry-After (it passes). */
const SURROUNDINGS_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['engine_unavailable', 'overloaded', 'store_unavailable']);

/** Whose the failure `err` (what a start or a reconcile threw) is; by its catalogue code, never its message. Pure. */
export function failureOwner(err: unknown): FailureOwner {
  return err instanceof BerthError && SURROUNDINGS_CODES.has(err.code) ? 'surroundings' : 'app';
}

/**
 * Whether an app that just moved to `next` has its failure kept across a gateway
 * restart. Pure. A failure (failed, crashloop) is kept, again at each new failure,
 * while there is a lastError to tell; a start under way leaves what is kept as it
 * is (it may fail as well, and a gateway killed mid-start still shows the failure);
 * any other state (running, stopped, paused…) means the app is past it.
 * `error`: whose the app's lastError is (undefined: it has none). A failure of the
 * surroundings is not kept: after a restart the app would show `failed` though nothing
 * was wrong with it; what is kept (an earlier failure of the app's own, not past since,
 * as no start worked) is left as it is.
 * `kept`: whether this controller put a failure in the store (or took one from it).
 * Serving is forgotten whatever `kept` says: with several gateways another one may
 * have kept the failure this gateway never saw (it led then), and a start that
 * works must not leave it for the next restart to show.
 */
export function failureKeeping(next: AppState, error: FailureOwner | undefined, kept: boolean): FailureKeeping {
  if ((next === 'failed' || next === 'crashloop') && error !== undefined) return error === 'app' ? 'keep' : 'leave';
  if (next === 'running') return 'forget';
  if (next === 'starting' || !kept) return 'leave';
  return 'forget';
}
