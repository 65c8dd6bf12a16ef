import type { IncomingMessage } from 'node:http';
import { isBrowserNavigation } from '../proxy/waiting-page.js';
import type { WaitingMode } from '../spec/types.js';

/** What the waiting policy weighs for an app that is not ready. */
export interface WaitingInfo {
  mode: WaitingMode;
  title?: string;
  message?: string;
  /** The last start failed moments ago: show that rather than start again at once. */
  recentFailure?: string;
  /** Crash-looping: seconds until the next start may be tried. */
  retryAfterS?: number;
}

/** How a request for an app that is not ready is answered. */
export type WaitingDecision = 'page' | 'wait' | 'recentFailure';

/**
 * While the app is not ready, a browser navigation (or any GET, for apps with
 * `waiting: page`) gets the please-wait page and the start goes on without it.
 * A start that failed moments ago is shown as such instead of being retried,
 * which is what ends a reload loop on a broken app. A crash-looping app is
 * held instead, so the hold path answers 503 with Retry-After. Pure.
 */
export function waitingDecision(info: WaitingInfo, req: Pick<IncomingMessage, 'method' | 'headers'>): WaitingDecision {
  if (info.mode === 'hold') return 'wait';
  if (info.mode === 'page' ? req.method !== 'GET' : !isBrowserNavigation(req as IncomingMessage)) return 'wait';
  if (info.retryAfterS !== undefined) return 'wait';
  return info.recentFailure ? 'recentFailure' : 'page';
}
