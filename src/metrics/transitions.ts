import type { AppState, AppStatus } from '../activator/app-status.js';

/** What a change of an app's state means for the counters. */
export interface TransitionFacts {
  /** A start from zero ended: ok (with its duration) or failed. */
  coldStart?: { ok: boolean; seconds?: number };
  /** The app failed: a start failed, it crash-looped, or it could not be set up. */
  startFailure: boolean;
  /** berth stopped or paused it because it was idle. */
  idleStop: boolean;
}

/**
 * Reads one state change: starting → running is a successful cold start
 * (`lastStartMs` long), starting → failed/crashloop a failed one; entering
 * failed or crashloop from anywhere is a start failure; entering stopped or
 * paused with the reason `idle…` is an idle stop. `previous` is the state
 * before, undefined when the app was not seen yet.
 */
export function classifyTransition(previous: AppState | undefined, status: AppStatus): TransitionFacts {
  const state = status.state;
  const failed = state === 'failed' || state === 'crashloop';
  const facts: TransitionFacts = {
    startFailure: failed && previous !== state,
    idleStop: (state === 'stopped' || state === 'paused') && previous !== state && (status.reason?.startsWith('idle') ?? false),
  };
  if (previous === 'starting' && state === 'running') {
    facts.coldStart = { ok: true, seconds: status.lastStartMs !== undefined ? status.lastStartMs / 1000 : undefined };
  } else if (previous === 'starting' && failed) {
    facts.coldStart = { ok: false };
  }
  return facts;
}
