import type { PublicStatus } from '../proxy/upstream.js';
import type { AppTimeouts, BalancePolicyName, HstsSpec, RouteSpec } from '../spec/types.js';

/**
 * The state feed: ONE mechanism for every proxy that does not own the
 * activator, whether it is a worker process on this host (IPC, now) or
 * another gateway on the same PostgreSQL store (LISTEN/NOTIFY, issue 12).
 * Three flows, each with one owner:
 *
 * - **Snapshots out.** The owner of the activator (the control) publishes
 *   routes and, per app, its ready instances and public state. Every message
 *   carries a version from one counter; a proxy applies an app's snapshot only
 *   if it is newer than what it holds, so a late or replayed message never
 *   rolls it back. A proxy that joins gets the full set first.
 * - **Activity in.** Proxies report, per app, what they have in flight (HTTP
 *   and WebSockets alike) and per instance, as absolute counts, in batches;
 *   an app named in a report had activity since the last one. Absolute counts
 *   make a report idempotent and a dead proxy's share easy to drop.
 * - **Wake requests, single flight.** A proxy answers a request by itself
 *   only while its snapshot shows a ready instance. Otherwise it asks the
 *   control, which runs the real `admit` (page, hold or fail stay the
 *   activator's decisions) with the request's facts: one start per app,
 *   however many proxies ask.
 *
 * Idle stops stay exact through a barrier (`fence`): before stopping an app,
 * the control has every proxy stop admitting it locally and flush its
 * activity, then looks again. Over PostgreSQL the same barrier is a lease
 * plus heartbeats; the messages below are the payloads either way.
 */
export interface StateFeed {
  /** Control side: the routes and per-app settings changed. */
  publishRoutes(apps: readonly RouteEntry[]): void;
  /** Control side: an app's instances or state may have changed (coalesced, sent once per turn). */
  appChanged(app: string): void;
  /**
   * Control side: resolves once every proxy has stopped admitting `app` locally and reported its
   * activity, and `then` (a barrier that follows, the other gateways') is done; they admit again after.
   */
  fence(app: string, then?: () => Promise<void>): Promise<void>;
}

/** One instance a proxy may dial. */
export interface UpstreamAddress {
  id: string;
  name?: string;
  host: string;
  port: number;
}

/** One app's dynamic state, as proxies need it. */
export interface AppSnapshot {
  app: string;
  version: number;
  /** Instances in rotation; empty while the app is not ready (or fenced). */
  ready: UpstreamAddress[];
  status: PublicStatus;
  /** A barrier is under way: admit nothing locally, ask the control. */
  fenced?: boolean;
  /** Instances leaving the rotation (a stop, a scale-down, an update): their WebSockets are told to go away. */
  draining?: string[];
}

/** One app's routing and the settings that come with its spec. */
export interface RouteEntry {
  app: string;
  routes: RouteSpec[];
  balance: BalancePolicyName;
  timeouts?: AppTimeouts;
  /** The input JSON of an app given it by URL (`input.as: url`), which the proxy listener serves. */
  input?: string;
  /** Its Strict-Transport-Security over HTTPS (spec `hsts`). */
  hsts?: HstsSpec;
}

/**
 * HTTPS at the edge as a proxy serves it. The control loads, watches and
 * renews the certificates (files and ACME) and answers for them in the API;
 * proxies get what they serve: the PEM pairs (a SecureContext cannot cross a
 * process boundary), the pending HTTP-01 challenges and the redirect rule.
 */
export interface EdgeSnapshot {
  /** In lookup order: an earlier pair keeps a name a later one also has (files before ACME). */
  certificates: Array<{ names: string[]; certPem: string; keyPem: string }>;
  /** Pending ACME HTTP-01 challenges: token, key authorization. */
  challenges: Array<[token: string, keyAuthorization: string]>;
  /** Set: answer a challenge for any well-formed token with this account thumbprint (several gateways; http01Answer). */
  anyToken?: string;
  /** `tls.redirect`: plain requests go to HTTPS unless a route says otherwise. */
  redirect: boolean;
  /** The TLS listener's port, where redirects point. */
  tlsPort: number;
}

/** What a proxy needs to run, decided once by the control. */
export interface ProxySettings {
  host: string;
  port: number;
  trustedProxies: string[];
  maxRequestHeaders: number;
  timeouts: Record<string, number>;
  maxConnections?: number;
  maxConnectionsPerClient?: number;
  waitingPageHtml?: string;
  logLevel: string;
  /** The gateway's input secret, hex: proxies check input URLs themselves. */
  inputSecret: string;
  /** The TLS listener every proxy shares too (a `tls` block); its certificates come as edge snapshots. */
  tls?: { host: string; port: number };
}

/** The request facts the activator weighs (waiting page, sticky cookie, upgrade). */
export interface RequestFacts {
  method: string;
  url: string;
  headers: Record<string, string>;
  upgrade: boolean;
}

/** An error as it crosses a process boundary. */
export interface WireError {
  message: string;
  /** A BerthError's catalogue code, or a system error's code (ECONNREFUSED). */
  code?: string;
  berth: boolean;
  retryAfterS?: number;
  /** A BerthError's publicMessage: what the worker's client may read of it. */
  publicMessage?: string;
}

/** The control's final answer to a wake request (a hold is waited out by the control first). */
export type WakeAnswer =
  | { kind: 'ready'; upstream: UpstreamAddress; setCookie?: string }
  | { kind: 'page'; title?: string; message?: string }
  | { kind: 'fail'; error: WireError };

/** Per app: in flight now, and per instance (ids with a count above 0). */
export type ActivityEntry = [app: string, inFlight: number, instances: Array<[id: string, inFlight: number]>];

/**
 * A finished request, as a tuple (smaller and cheaper than an object in JSON):
 * time (ms since the epoch), app, method, path, status, durationMs, bytesIn,
 * bytesOut, client, waited (0/1), instance, requestId.
 */
export type WireRecord = [number, string, string, string, number, number, number, number, string, 0 | 1, string | null, string | null];

/** Control → proxy. */
export type ToProxy =
  | {
      t: 'hello';
      worker: number;
      settings: ProxySettings;
      version: number;
      routes: RouteEntry[];
      apps: AppSnapshot[];
      edge?: EdgeSnapshot;
      /** After this long without a word from the control, the worker fails wakes instead of waiting on them (control-watch.ts). */
      controlSilentMs?: number;
    }
  /** The edge changed; answered with `edgeApplied` once served (an HTTP-01 challenge must be before the CA looks). */
  | { t: 'edge'; id: number; edge: EdgeSnapshot }
  /** The routed apps that changed (new or different) and those no longer routed; the full set went in `hello`. */
  | { t: 'routes'; version: number; set: RouteEntry[]; removed: string[] }
  | { t: 'apps'; apps: AppSnapshot[] }
  | { t: 'fence'; id: number; app: AppSnapshot }
  /** Another gateway (the leader) is stopping `app`: this worker's WebSockets on it are told to go away. */
  | { t: 'goAway'; app: string }
  | { t: 'woken'; id: number; answer: WakeAnswer }
  | { t: 'checked'; id: number; gone: boolean }
  | { t: 'close'; graceMs: number }
  /** A reload: what a live proxy takes of the new configuration. */
  | { t: 'settings'; waitingPageHtml?: string; logLevel: string }
  /** Answered with `pong`: a worker that answers nothing for long is taken for hung (worker-pool.ts). */
  | { t: 'ping' };

/** Proxy → control. */
export type FromProxy =
  | { t: 'ready' }
  | { t: 'listening'; port: number; tlsPort?: number }
  | { t: 'edgeApplied'; id: number }
  /** `configKey`: the error names the config key of the listener the kernel refused (listen-failure.ts), a ConfigError in the control too. */
  | { t: 'listenFailed'; error: string; configKey?: true }
  | { t: 'activity'; apps: ActivityEntry[] }
  | { t: 'records'; records: WireRecord[] }
  | { t: 'wake'; id: number; app: string; facts: RequestFacts }
  /** The client of wake `id` went before its answer: its place in the app's wait queue is given back. */
  | { t: 'leave'; id: number }
  | { t: 'unreachable'; id: number; app: string; instanceId: string; failures: number }
  | { t: 'fenced'; id: number }
  | { t: 'closed' }
  | { t: 'pong' };
