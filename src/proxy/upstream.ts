import type { IncomingMessage } from 'node:http';
import type { UpgradeExchange } from './forward-upgrade.js';

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
  /** Its open WebSockets, kept by the proxy: a drain tells them to go away (tunnels-go-away.ts) rather than wait on them. */
  tunnels?: Set<UpgradeExchange>;
}

/** A ready instance for one request, and the Set-Cookie value (sticky sessions) for that client only. */
export interface Admitted {
  upstream: Upstream;
  setCookie: string | undefined;
}

/**
 * The activator's one answer to "may this request go through?":
 * - ready: go to `upstream` now (a reused object: read it at once, keep nothing);
 * - page: a browser gets the please-wait page while the app starts (never for an upgrade);
 * - wait: hold the request until the app is ready; `leave` (when given) is
 *   called when the client goes first, and gives its place in the app's wait
 *   queue back at once (`ready` then rejects with ClientClosedError);
 * - fail: answer with this error (a typed BerthError) now;
 * - later: the decision is made elsewhere (a proxy worker asks the control
 *   process, which owns the activator) and settles to one of the above;
 *   `leave`, as for wait, tells the one deciding that the client went.
 */
export type Admission =
  | ({ kind: 'ready' } & Admitted)
  | { kind: 'page'; title?: string; message?: string }
  | { kind: 'wait'; ready: Promise<Admitted>; leave?: () => void }
  | { kind: 'fail'; error: Error }
  | { kind: 'later'; admission: Promise<Admission>; leave?: () => void };

/**
 * What the proxy knows about a request that the request itself does not say.
 * Callers pass shared constants or nothing on the hot path, so asking stays
 * allocation-free.
 */
export interface AdmitOptions {
  /** A WebSocket handshake: a socket cannot show a page, so it is held where a browser would get one. */
  upgrade?: boolean;
  /**
   * A retry: the connection to this instance failed before any answer. The
   * answer is another ready instance, or `fail` at once: the request was
   * admitted already, so nothing is started and no page is shown for it. The
   * proxy then reports the instance `unreachable` and, if it is gone, asks
   * again without `exclude`.
   */
  exclude?: string;
}

/**
 * What the proxy asks of the rest of berth for each request. `admit` is the
 * one question: the activator decides between forwarding, holding, the
 * waiting page and a failure, and the balancer policy chooses the instance.
 * Kept this narrow so the proxy can be tested and benchmarked with a fixed
 * upstream.
 */
export interface UpstreamSource {
  admit(app: string, req: IncomingMessage, options?: AdmitOptions): Admission;
  /**
   * A ready instance now, with no side effect at all (nothing woken, held or
   * counted), or undefined: then `admit` is the one to ask. berth's own
   * HTTP/1.1 front serves a request itself only on this answer. The answer
   * is a reused object: read it at once, keep nothing.
   */
  admitReady?(app: string, req: IncomingMessage, exclude?: string): Admitted | undefined;
  /** A request or WebSocket for the app began; activity keeps an app awake. */
  began(app: string): void;
  /** The matching end of `began`. */
  ended(app: string): void;
  /** What the waiting page may learn about the app. */
  publicStatus(app: string): PublicStatus | undefined;
  /**
   * A connection to `instanceId` failed before it answered anything, and no
   * other instance could take the request. Resolves true when the instance
   * turned out to be gone (the app is then no longer ready, and the next
   * `admit` wakes it again), false when it still runs. Lets the proxy serve a
   * request that raced an app's own exit instead of answering 502.
   */
  unreachable?(app: string, instanceId: string): Promise<boolean>;
  /** Serves `GET /_berth/input/<app>`: the app's input JSON when the secret matches. */
  inputFor?(app: string, secret: string): string | undefined;
}

export interface PublicStatus {
  state: string;
  ready: boolean;
  error?: string;
}
