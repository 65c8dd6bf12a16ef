import type { WaitingMode } from '../spec/types.js';

/** One instance the proxy can dial. */
export interface Upstream {
  app: string;
  instanceId: string;
  /** `http://127.0.0.1:<port>`; the key of the connection pool. */
  origin: string;
  host: string;
  port: number;
}

/**
 * What the proxy asks of the rest of berth for each request: the activator
 * answers with a ready instance, starting the app first when it must. Kept this
 * narrow so the proxy can be tested and benchmarked with a fixed upstream.
 */
export interface UpstreamSource {
  /** A ready upstream right now, without waiting; undefined when the app must be woken. */
  pick(app: string): Upstream | undefined;
  /** Waits until the app has a ready upstream (cold start); rejects with a BerthError saying why not. */
  acquire(app: string): Promise<Upstream>;
  /** A request or WebSocket for the app began; activity keeps an app awake. */
  began(app: string): void;
  /** The matching end of `began`. */
  ended(app: string): void;
  /** How requests for a not-ready app wait; undefined for an unknown app. */
  waiting(app: string): WaitingInfo | undefined;
  /** What the waiting page may learn about the app. */
  publicStatus(app: string): PublicStatus | undefined;
  /**
   * A connection to `instanceId` failed before it answered anything. Resolves
   * true when the instance turned out to be gone (the app is then no longer
   * ready, and `acquire` wakes it again), false when it still runs. Lets the
   * proxy serve a request that raced an app's own exit instead of answering 502.
   */
  unreachable?(app: string, instanceId: string): Promise<boolean>;
}

export interface WaitingInfo {
  mode: WaitingMode;
  title?: string;
  message?: string;
  /** The last start failed moments ago: show that rather than start again at once. */
  recentFailure?: string;
  /** Crash-looping: seconds until the next start may be tried. */
  retryAfterS?: number;
}

export interface PublicStatus {
  state: string;
  ready: boolean;
  error?: string;
}
