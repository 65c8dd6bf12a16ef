import type { IncomingMessage } from 'node:http';
import type { WaitingMode } from '../spec/types.js';

/** One instance the proxy can dial. */
export interface Upstream {
  app: string;
  instanceId: string;
  /** The container's name, which the request history records (as django_docker_engine's historian does); the id when unknown. */
  instanceName?: string;
  /** `http://127.0.0.1:<port>`; the key of the connection pool. */
  origin: string;
  host: string;
  port: number;
  /** Requests in flight to this instance; kept by the proxy, read by balancer policies. */
  inFlight: number;
  /** Consecutive connection failures; the proxy resets it on success. */
  failures: number;
}

/** A ready instance for one request, and the Set-Cookie value (sticky sessions) for that client only. */
export interface Admitted {
  upstream: Upstream;
  setCookie: string | undefined;
}

/**
 * The activator's one answer to "may this request go through?":
 * - ready: go to `upstream` now (a reused object: read it at once, keep nothing);
 * - page: a browser gets the please-wait page while the app starts;
 * - wait: hold the request until the app is ready;
 * - fail: answer with this error (a typed BerthError) now.
 */
export type Admission =
  | ({ kind: 'ready' } & Admitted)
  | { kind: 'page'; title?: string; message?: string }
  | { kind: 'wait'; ready: Promise<Admitted> }
  | { kind: 'fail'; error: Error };

/**
 * What the proxy asks of the rest of berth for each request: the activator
 * answers with a ready instance, starting the app first when it must. Kept this
 * narrow so the proxy can be tested and benchmarked with a fixed upstream.
 */
export interface UpstreamSource {
  /**
   * The one question of the HTTP path (when the source has it; `pick` and
   * `acquire` stay for retries, WebSockets and simple sources): the activator
   * decides between forwarding, waiting, the waiting page and a failure.
   */
  admit?(app: string, req: IncomingMessage): Admission;
  /**
   * A ready instance chosen by the app's balancer policy, right now, without
   * waiting; undefined when the app must be woken. `exclude` skips an instance
   * that just failed, for a retry.
   */
  pick(app: string, req?: IncomingMessage, exclude?: string): Upstream | undefined;
  /** Waits until the app has a ready instance (cold start) and picks one; rejects with a BerthError saying why not. */
  acquire(app: string, req?: IncomingMessage): Promise<Upstream>;
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
  /** Serves `GET /_berth/input/<app>`: the app's input JSON when the secret matches. */
  inputFor?(app: string, secret: string): string | undefined;
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
