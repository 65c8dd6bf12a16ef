import type { FieldProblem } from '../errors.js';

/**
 * The admin API's JSON, as the API writes it and the CLI (and the dashboard)
 * read it: the one statement of the wire format. Times are ISO strings. The
 * API's views are typed with these, so a change of the contract fails the
 * build on both sides.
 */

export type AppStateName = 'stopped' | 'starting' | 'running' | 'stopping' | 'paused' | 'failed' | 'crashloop';

export interface StatusView {
  name: string;
  state: AppStateName;
  since: string;
  lastActivity?: string;
  idleAt?: string;
  /** The idle timeout in force: the spec's, else the gateway's default; absent when the app never idles (scale.min ≥ 1). */
  idleTimeoutMs?: number;
  retryAt?: string;
  /** Why berth put the app in its state, when it chose to (`idle`, `stopped through the API`…); absent when the app got there by itself. */
  reason?: string;
  lastError?: string;
  /** A start failed because its container died: the end of what it wrote (admin API only; lastError is also told to the app's clients). */
  lastOutput?: string;
  /** Why the gateway's policy in force refuses the app (an API app accepted under a wider policy a reload narrowed): what runs serves on until it stops, no new container is made. */
  policyRefused?: string;
  lastStartMs?: number;
  inFlight: number;
  waiting: number;
  /** Instances that run while the app is up, and those in rotation now. */
  replicas?: number;
  readyInstances?: number;
}

export interface RouteView {
  host?: string;
  path?: string;
  stripPrefix: boolean;
  url: string;
}

export interface InstanceView {
  id: string;
  name: string;
  state: string;
  health: string;
  address: string | null;
  startedAt: string | null;
}

export interface AppView {
  name: string;
  revision: number;
  source: 'config' | 'api';
  createdAt: string;
  updatedAt: string;
  state: AppStateName;
  status: StatusView | null;
  routes: RouteView[];
  instances: InstanceView[];
  spec: {
    image: string;
    port: number;
    /** Plain text, or a secret as the API shows it: `{secret: "<redacted>"}`, `{fromFile}`, `{fromEnv}`. */
    env: Record<string, string | { secret?: string; fromFile?: string; fromEnv?: string }>;
    volume?: string;
    scale: { min: number; max: number; replicas?: number };
    idleTimeoutMs?: number;
    network?: string;
    [key: string]: unknown;
  };
}

export interface FieldChange {
  path: string;
  from?: unknown;
  to?: unknown;
}

export interface ApplyResult {
  name: string;
  action: 'created' | 'updated' | 'unchanged';
  revision: number;
  changes: FieldChange[];
  /** Why the change did not take effect on the running app (e.g. a rolled-back update). */
  error?: string;
  /** Where each of the app's routes is served (`http://127.0.0.1:8080/session/web/`). */
  urls?: string[];
}

export interface ApplyAnswer {
  dryRun: boolean;
  results: ApplyResult[];
}

export interface RequestRecordView {
  time: string;
  app: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  bytesIn: number;
  bytesOut: number;
  client: string;
  waited: boolean;
  instance?: string;
  /** The gateway that served it, when several share a PostgreSQL store. */
  gateway?: string;
}

export interface HistoryPageView {
  items: RequestRecordView[];
  next?: string;
}

export interface TokenView {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface CreatedTokenView {
  id: string;
  name: string;
  token: string;
  createdAt: string;
}

export interface HealthView {
  status: 'ok' | 'degraded' | 'draining';
  engine?: string;
  version: string;
  uptimeS: number;
  apps: Record<string, number>;
}

export interface VersionView {
  version: string;
  api: string;
  node: string;
}

/** The problem+json body every error answer carries (RFC 9457). */
export interface ProblemBody {
  type?: string;
  title?: string;
  status?: number;
  code?: string;
  detail?: string;
  app?: string;
  problems?: FieldProblem[];
}

/**
 * A wire type as the API builds it before JSON.stringify: a time may still be a
 * Date (it is sent as its ISO string). The API types its views with this, so the
 * shapes above are the ones it promises.
 */
export type Sent<T> = T extends string ? string | Date : T extends readonly (infer E)[] ? Sent<E>[] : T extends object ? { [K in keyof T]: Sent<T[K]> } : T;
