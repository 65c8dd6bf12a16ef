import type { AppSpec } from '../spec/types.js';
import type { HistoryColumns } from './history-columns.js';

/** Where an app's desired state came from. Config-sourced apps are replaced on reload. */
export type AppSource = 'config' | 'api';

/** One revision of an app, as an apply stored it. */
export interface AppRevision {
  name: string;
  revision: number;
}

export interface DeleteOptions {
  /** Its volumes go too once its containers are gone. */
  purgeVolumes?: boolean;
  /**
   * Refused (ConflictError) when another stored app depends on it: the API's delete, which
   * checked the gateway's own copy of the apps already. A store that other gateways write too
   * (PostgreSQL) checks again under its lock; an undo of this gateway's own apply does not ask.
   */
  refuseDependents?: boolean;
}

export interface StoredApp {
  name: string;
  spec: AppSpec;
  /** Starts at 1, grows by one on every change of the spec. */
  revision: number;
  specHash: string;
  source: AppSource;
  createdAt: Date;
  updatedAt: Date;
  /** The replica count `berth scale` set, kept across restarts until the spec itself changes. */
  replicas?: number;
}

/** An app deleted whose containers may still exist: a tombstone, forgotten once they are gone. */
export interface DeletedApp {
  name: string;
  purgeVolumes: boolean;
  deletedAt: Date;
}

export interface PutResult {
  app: StoredApp;
  /** False when the stored spec was already identical (no new revision). */
  changed: boolean;
}

/**
 * Desired state. SQLite by default; PostgreSQL later, hence the async surface.
 * Every write is atomic: a batch is applied whole or not at all.
 */
export interface Store extends TokenStore, HistoryStore, UsageStore, CertificateStore, LastRequestStore, FailureStore {
  open(): Promise<void>;
  close(): Promise<void>;
  /** The desired apps (tombstones left out), by name. */
  listApps(): Promise<StoredApp[]>;
  getApp(name: string): Promise<StoredApp | undefined>;
  /** At most `limit` desired apps whose names sort after `after` (all when undefined), by name: a page of the app list. */
  listAppsPage(after: string | undefined, limit: number): Promise<StoredApp[]>;
  /**
   * Puts several specs and marks the named apps deleted, in one transaction. A spec
   * whose content changed clears the app's scale override and its kept failure; a spec
   * for a tombstoned name makes a new app (revision 1).
   */
  applyApps(specs: AppSpec[], source: AppSource, removeNames?: string[]): Promise<PutResult[]>;
  /** Marks the app deleted (a tombstone); false when there was no desired app of that name. */
  deleteApp(name: string, options?: DeleteOptions): Promise<boolean>;
  /** Apps deleted whose containers may still exist. */
  listDeleted(): Promise<DeletedApp[]>;
  /** Drops a tombstone (and the app's kept failure) once the app's containers are gone; a desired app of that name is kept. */
  forgetDeleted(name: string): Promise<void>;
  /** Keeps the replica count set by `berth scale` (undefined: the spec's own); false when there is no such app. */
  setReplicas(name: string, replicas: number | undefined): Promise<boolean>;
  /**
   * Puts back an app row exactly as it was read (revision and all), over a tombstone
   * too: an update that was rolled back, or a delete that was refused, was never desired.
   */
  restoreApp(app: StoredApp): Promise<void>;
  /**
   * An API update is unsettled until the gateway knows it deployed (or rolled back):
   * until then the row it replaced is kept. settleApps forgets the replaced rows.
   */
  settleApps(names: readonly string[]): Promise<void>;
  /**
   * Puts back the rows unsettled updates replaced (a gateway killed mid-rollout); returns their names.
   * With `only`: just those apps, and each only while the store still holds that revision (a later
   * apply is not undone by the rollback of an earlier one).
   */
  revertUnsettled(only?: readonly AppRevision[]): Promise<string[]>;
  /**
   * The rows unsettled updates replaced, as they were (not the apps such an update created):
   * the revisions whose containers the engine may still run while the update is rolled out.
   */
  replacedUnsettled(): Promise<StoredApp[]>;
  /** The store's identity: a random id made once, labelled on every container (`berth.store`). */
  storeId(): Promise<string>;
  /**
   * True when the store file existed but held no berth schema when opened (a 0-byte
   * file, say): the gateway then refuses to start beside berth-managed containers.
   */
  readonly openedEmpty?: boolean;
  /**
   * A random 32-byte secret kept under `key`: made on first use, the same ever
   * after (and for every gateway sharing the store). Signs per-app input URLs.
   */
  getOrCreateSecret(key: string): Promise<Buffer>;
}

/**
 * A host's ACME certificate and the state of its orders, shared by every gateway
 * on the store: one gateway's certificate serves them all.
 */
export interface StoredCertificate {
  /** The exact route host it is for (lower case). */
  host: string;
  /** PEM chain and its key, once an order succeeded. */
  certPem?: string;
  keyPem?: string;
  notAfter?: Date;
  /** The CA's reason for the last failed order; cleared by a success. */
  lastError?: string;
  /** Failed orders in a row (the backoff grows with it). */
  failures: number;
  /** No order before this (backoff after a failure); undefined: as soon as one is due. */
  retryAt?: Date;
  updatedAt: Date;
}

/** Certificates obtained by ACME, by host. */
export interface CertificateStore {
  /** Every stored certificate row, by host. */
  listCertificates(): Promise<StoredCertificate[]>;
  /** Writes the row for its host whole (insert or replace). */
  putCertificate(certificate: StoredCertificate): Promise<void>;
}

/** An API token as stored: only a hash of its secret is kept. */
export interface StoredToken {
  id: string;
  name: string;
  /** SHA-256 of the secret, hex. */
  hash: string;
  createdAt: Date;
  lastUsedAt?: Date;
}

/** One proxied request, as the proxy reports it and the history keeps it. */
export interface RequestRecord {
  /** When it ended, epoch milliseconds: a number, so the hot path makes no Date per request. */
  timeMs: number;
  app: string;
  method: string;
  path: string;
  /** 0 when the client went away before an answer. */
  status: number;
  durationMs: number;
  bytesIn: number;
  bytesOut: number;
  client: string;
  /** The request waited for a cold start. */
  waited: boolean;
  /** The container that served it, when one did. */
  instance?: string;
  /** The gateway that served it, when several share one store (read back from the history; the writer tags its own). */
  gateway?: string;
  /** The request's id (X-Request-Id), as sent upstream and answered to the client; the history may leave it out. */
  requestId?: string;
}

export interface HistoryQuery {
  app: string;
  since?: Date;
  until?: Date;
  /** Exact status (404) or a class (`4xx`). */
  status?: number | `${1 | 2 | 3 | 4 | 5}xx`;
  /** Newest first; at most this many (default 100, max 1000). */
  limit?: number;
  /** Opaque cursor from a previous page's `next`. */
  cursor?: string;
}

/** A record as the history gives it back: its time as a Date, for the API's ISO text. */
export type HistoryItem = Omit<RequestRecord, 'timeMs' | 'requestId'> & { time: Date };

export interface HistoryPage {
  items: HistoryItem[];
  /** Cursor of the next (older) page, when there is one. */
  next?: string;
}

export interface HistoryRetention {
  /**
   * Most records kept in all. Past it the largest apps give way first: every app keeps its
   * newest records down to one level, the most that lets the total fit (history-shares.ts).
   */
  maxRecords: number;
  /** Records older than this are dropped. */
  maxAgeMs: number;
}

/** An app's last request time, epoch milliseconds, as saved. */
export type LastRequest = readonly [app: string, atMs: number];

/**
 * When each app last had a request, saved now and then and at shutdown (never per
 * request): after a gateway restart an app's idle timeout counts on from it.
 */
export interface LastRequestStore {
  /** Every saved app's last request time, by app. */
  lastRequests(): Promise<Map<string, number>>;
  /** Saves `changed` (insert or replace) and forgets the apps in `gone`, in one transaction. */
  saveLastRequests(changed: readonly LastRequest[], gone: readonly string[]): Promise<void>;
}

/**
 * An app's last failure (state `failed` or `crashloop`), kept so that a gateway
 * restart still tells it: without it the app showed a plain `stopped`, its why gone.
 */
export interface StoredFailure {
  /** Why the app was in its state then (AppStatus.reason), if anything was said. */
  reason?: string;
  /** The failure in full, as the admin API tells it (AppStatus.lastError). */
  lastError: string;
  /** The failure as the app's clients may read it (the 502, the waiting page): never the engine's words. */
  publicError: string;
  /** The end of what the failed container wrote (AppStatus.lastOutput), for the admin API only. */
  lastOutput?: string;
  /** When the app failed (AppStatus.since). */
  failedAt: Date;
}

/**
 * Each app's last failure, one row per app that every gateway on the store reads at
 * its start. Written when an app fails, forgotten when it starts (or stops) again; a
 * changed spec and a finished delete forget it too (applyApps, forgetDeleted).
 */
export interface FailureStore {
  /** Every kept failure, by app. */
  appFailures(): Promise<Map<string, StoredFailure>>;
  /** Keeps `failure` as the app's (insert or replace), or forgets the app's (undefined). */
  saveAppFailure(app: string, failure: StoredFailure | undefined): Promise<void>;
}

export interface RevokeOptions {
  /** Refuse to revoke the only token left (the API would then be locked out). */
  keepOne?: boolean;
}

/** API tokens: created, listed, checked and revoked. */
export interface TokenStore {
  createToken(token: { id: string; name: string; hash: string }): Promise<StoredToken>;
  listTokens(): Promise<StoredToken[]>;
  /** The token whose secret hashes to `hash`, if not revoked. */
  findTokenByHash(hash: string): Promise<StoredToken | undefined>;
  /**
   * Revokes the token with this id, or else this name: false when there is none.
   * With `keepOne`, the only token left is not revoked and 'last' is the answer,
   * decided in the same transaction as the delete, so two gateways revoking the
   * last two tokens at once cannot both succeed.
   */
  revokeToken(idOrName: string, options?: RevokeOptions): Promise<boolean | 'last'>;
  touchToken(id: string, when: Date): Promise<void>;
  countTokens(): Promise<number>;
}

/** Request history, written in batches off the hot path. */
export interface HistoryStore {
  appendRequests(records: readonly RequestRecord[]): Promise<void>;
  /**
   * The same for a batch already in columns, checked and truncated (RecordColumns,
   * toColumns): what the HistoryBuffer writes, with no object per record. A store
   * without it is given the records again (recordsOf). It must leave the batch as it is
   * (no transfer of its buffers): a batch the store could not reach is retried, and the
   * written one is handed on (onWritten).
   */
  appendColumns?(cols: HistoryColumns): Promise<void>;
  queryRequests(query: HistoryQuery): Promise<HistoryPage>;
  /** Drops what the retention no longer allows; returns how many records went. */
  pruneRequests(retention: HistoryRetention, now: Date): Promise<number>;
}

/** Container-seconds and requests of one app on one UTC day (see src/accounting/). */
export interface UsageRow {
  app: string;
  /** YYYY-MM-DD, UTC. */
  day: string;
  runningS: number;
  pausedS: number;
  idleS: number;
  requests: number;
}

export interface UsageQuery {
  /** First UTC day included (YYYY-MM-DD); all days when absent. */
  sinceDay?: string;
  app?: string;
}

/** Usage accounting: figures are only ever added to, per app and day. */
export interface UsageStore {
  /** Adds each row's figures to what is stored for its app and day (a missing row counts as zero), all in one transaction. */
  addUsage(rows: readonly UsageRow[]): Promise<void>;
  /** Stored rows, by app then day. */
  queryUsage(query: UsageQuery): Promise<UsageRow[]>;
  /** Drops the rows of days before `beforeDay` (YYYY-MM-DD, UTC), of every app; returns how many went. */
  pruneUsage(beforeDay: string): Promise<number>;
}
