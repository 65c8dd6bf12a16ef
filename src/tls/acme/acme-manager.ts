import { X509Certificate } from 'node:crypto';
import { Agent } from 'node:https';
import type { Client } from 'acme-client';
import type { Logger } from 'pino';
import type { AcmeConfig } from '../../config/config.js';
import { messageOf } from '../../errors.js';
import type { Store, StoredCertificate } from '../../store/store.js';
import type { CertificatePair } from '../certificate-pair.js';
import { readPemFile } from '../file-certificates.js';
import { acmeAccountKey } from './acme-account.js';
import { AcmeRateLimitedError, installAcmeHttp, loadAcmeLibrary, runOrder } from './acme-http.js';
import { hostCertificatePair } from './host-certificate.js';
import { dueOrders, nextCheckInMs, RETRY_MAX_MS, retryDelayMs, type OrderReason } from './renewal-plan.js';
import { doublingDelayMs } from '../../backoff.js';

export interface AcmeManagerOptions {
  config: AcmeConfig;
  store: Store;
  logger: Logger;
  /** Token → key authorization, served on the plain listener at /.well-known/acme-challenge/ (TlsEdge.challenges). */
  challenges: Map<string, string>;
  /** Resolves once every proxy serves the challenges as they are now (proxy workers); awaited before the CA is asked to look. */
  challengesPublished?: () => Promise<void>;
  /** The hosts to keep certificates for (acmeHosts of the desired apps), asked at every check. */
  hosts: () => string[];
  /** A file certificate serves this host: no order for it. */
  coveredByFile: (host: string) => boolean;
  /** The set of ACME certificates changed (the SNI index is rebuilt). */
  changed: () => void;
  /** How long one order may take in all; ORDER_TIMEOUT_MS by default. */
  orderTimeoutMs?: number;
  /** Gets a certificate for a host from the CA; by default acme-client against config.directory (tests: a stand-in CA). */
  obtain?: (host: string) => Promise<{ certPem: string; keyPem: string }>;
  /** When an issued certificate the store did not take is written again; STORE_RETRY by default. */
  storeRetry?: { firstMs: number; maxMs: number };
  /**
   * Whether this gateway orders (several gateways on one PostgreSQL store: the
   * leader only); the others serve what the store has. Every gateway ordering
   * each host ordered it once per gateway at once, spending the CA's rate limit
   * N times. Always, when unset.
   */
  orders?: () => boolean;
}

/**
 * An issued certificate the store refused is written again 1 s later, then
 * backing off to every 5 min: meanwhile it serves from memory, since ordering
 * it again would spend the CA's rate limit (Let's Encrypt: 5 duplicate
 * certificates a week) on a store outage.
 */
export const STORE_RETRY = { firstMs: 1_000, maxMs: 5 * 60_000 };

/**
 * How long one order may take in all, acme-client's own retries and polls
 * included. Orders run one at a time, so without a bound one CA that accepts
 * connections and never answers, or rate-limits with a Retry-After of a day
 * (which acme-client sleeps out), would hold every other host's order and
 * every renewal behind it. Let's Encrypt finishes an order in seconds.
 */
export const ORDER_TIMEOUT_MS = 5 * 60_000;

/** An order given up at its bound (ORDER_TIMEOUT_MS); retried after the usual backoff. */
export class AcmeOrderTimeoutError extends Error {
  readonly code = 'acme_order_timeout';
  constructor(directory: string, host: string, ms: number) {
    super(`the ACME server at ${directory} did not finish the order for ${host} within ${ms / 1000} s`);
  }
}

/** One host's certificate as the API and dashboard show it. */
export interface AcmeCertificateView {
  host: string;
  source: 'acme';
  /**
   * valid: served; expired: served but past its notAfter (its renewal not under way yet: waiting
   * behind other hosts' orders); ordering: an order is under way; failed: the last order failed
   * (retried at retryAt); pending: none yet.
   */
  status: 'valid' | 'expired' | 'ordering' | 'failed' | 'pending';
  notAfter?: string;
  lastError?: string;
  failures: number;
  retryAt?: string;
}

/** The bound on the last write, at close, of a certificate the store had not taken. */
const FINAL_SAVE_MS = 2_000;

/**
 * Obtains and renews a certificate for every exact route host with ACME
 * (HTTP-01, answered on the plain listener), keeps them in the store for every
 * gateway sharing it, and serves them by SNI. A failed order is kept with the
 * CA's reason and retried with a growing backoff. Orders run one at a time.
 */
export class AcmeManager {
  /** Rows as last read from the store, by host. */
  private rows = new Map<string, StoredCertificate>();
  /** Servable pairs of the rows with a certificate, by host. */
  private readonly pairs = new Map<string, CertificatePair>();
  private readonly ordering = new Set<string>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private closed = false;
  private client?: Client;
  /** Issued certificates the store has not taken yet, by host, with the store's last refusal: served, written again (see STORE_RETRY). */
  private readonly unsaved = new Map<string, { row: StoredCertificate; error: string }>();
  private saveFailures = 0;
  private saveTimer?: NodeJS.Timeout;

  constructor(private readonly options: AcmeManagerOptions) {}

  /** Loads what the store has (served at once) and starts checking. */
  async start(): Promise<void> {
    await this.refresh();
    this.schedule(0);
  }

  certificates(): Iterable<CertificatePair> {
    return this.pairs.values();
  }

  /** Every host ACME looks after, with its certificate's state. */
  views(): AcmeCertificateView[] {
    const now = Date.now();
    return this.options.hosts().filter((h) => !this.options.coveredByFile(h)).map((host) => {
      const row = this.rows.get(host);
      const pair = this.pairs.get(host);
      const status = this.ordering.has(host) ? 'ordering' : row?.lastError !== undefined ? 'failed' : pair === undefined ? 'pending' : pair.notAfter.getTime() <= now ? 'expired' : 'valid';
      const view: AcmeCertificateView = { host, source: 'acme', status, failures: row?.failures ?? 0 };
      if (row?.notAfter) view.notAfter = row.notAfter.toISOString();
      if (row?.lastError !== undefined) view.lastError = row.lastError;
      const unsaved = this.unsaved.get(host);
      if (unsaved) view.lastError = `issued and served, but not stored yet (the store's write is tried again; other gateways on the store lack it): ${unsaved.error}`;
      if (row?.retryAt) view.retryAt = row.retryAt.toISOString();
      return view;
    });
  }

  /** The apps' hosts changed: check soon (a new host gets its order without waiting for the interval). */
  hostsChanged(): void {
    this.schedule(0);
  }

  /**
   * Stops checking. A certificate the store has not taken yet is written once more (each
   * write bounded by FINAL_SAVE_MS): lost with the process, it would be ordered again at the
   * next start, spending the CA's rate limit.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.saveTimer);
    for (const [host, pending] of [...this.unsaved]) {
      try {
        await withinMs(() => this.options.store.putCertificate(pending.row), FINAL_SAVE_MS, () => new Error(`no answer within ${FINAL_SAVE_MS} ms`));
        this.unsaved.delete(host);
        this.options.logger.info({ host }, 'an issued certificate was stored after all');
      } catch (err) {
        this.options.logger.error({ host, err: messageOf(err) }, 'an issued certificate was never stored: it is ordered again at the next start');
      }
    }
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.check(), ms);
    this.timer.unref();
  }

  /** One check at a time; a check asked for meanwhile runs once the current one ends. */
  private async check(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.checkNow().catch((err: unknown) => this.options.logger.error({ err: messageOf(err) }, 'certificate check failed'));
    await this.running;
    this.running = undefined;
    if (this.again) {
      this.again = false;
      return this.check();
    }
    const hosts = new Set(this.options.hosts());
    const ordered = (host: string) => hosts.has(host) && !this.options.coveredByFile(host);
    this.schedule(nextCheckInMs(this.rows.values(), Date.now(), this.options.config.checkEveryMs, ordered));
  }

  private async checkNow(): Promise<void> {
    // Another gateway on the store may have renewed meanwhile: what it stored is used, not ordered again.
    await this.refresh();
    const { config } = this.options;
    // A stored certificate that cannot serve its host counts as none: ordered now, not at its expiry.
    const servable = (host: string) => this.pairs.has(host);
    // A short-lived certificate is renewed at a third of its lifetime left, not from its issue on.
    const lifetimeMs = (host: string) => {
      const pair = this.pairs.get(host);
      return pair && pair.notAfter.getTime() - pair.notBefore.getTime();
    };
    for (const { host, reason } of dueOrders(this.options.hosts(), this.rows, Date.now(), config.renewBeforeMs, this.options.coveredByFile, servable, lifetimeMs)) {
      if (this.closed || this.options.orders?.() === false) return;
      await this.order(host, reason);
    }
  }

  /** Reads the store's rows; each certificate that checks out is served. */
  private async refresh(): Promise<void> {
    const rows = await this.options.store.listCertificates();
    // An issued certificate not stored yet stays what this gateway serves and plans with,
    // unless the store now has one at least as new (another gateway's renewal).
    for (const row of rows) {
      const mine = this.unsaved.get(row.host)?.row;
      if (mine && row.certPem !== undefined && row.notAfter !== undefined && row.notAfter.getTime() >= mine.notAfter!.getTime()) this.unsaved.delete(row.host);
    }
    let changed = false;
    for (const row of rows) {
      if (this.unsaved.has(row.host)) continue;
      const before = this.rows.get(row.host);
      if (row.certPem !== undefined && row.keyPem !== undefined && row.certPem !== before?.certPem) {
        try {
          this.pairs.set(row.host, hostCertificatePair(row.host, row.certPem, row.keyPem, 'stored'));
          changed = true;
        } catch (err) {
          this.options.logger.error({ host: row.host, err: messageOf(err) }, 'a stored certificate cannot be served');
        }
      }
    }
    this.rows = new Map(rows.map((r) => [r.host, r]));
    for (const [host, { row }] of this.unsaved) this.rows.set(host, row);
    if (changed) this.options.changed();
  }

  /** The store refused an issued certificate: it keeps serving from memory and its write is tried again, backing off. */
  private keepUnsaved(row: StoredCertificate, err: unknown): void {
    const first = !this.unsaved.has(row.host);
    this.unsaved.set(row.host, { row, error: messageOf(err) });
    if (first) this.options.logger.error({ host: row.host, err: messageOf(err) }, 'the store did not take an issued certificate: served from memory, its write tried again');
    this.scheduleSave();
  }

  private scheduleSave(): void {
    if (this.closed || this.saveTimer) return;
    const { firstMs, maxMs } = this.options.storeRetry ?? STORE_RETRY;
    const delay = doublingDelayMs(this.saveFailures, firstMs, maxMs);
    this.saveFailures++;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      void this.saveUnsaved();
    }, delay);
    this.saveTimer.unref();
  }

  /** Writes the certificates the store has not taken yet; those it refuses again are tried later. */
  private async saveUnsaved(): Promise<void> {
    for (const [host, pending] of [...this.unsaved]) {
      if (this.closed) return;
      try {
        await this.options.store.putCertificate(pending.row);
        // An order since may have replaced it (with a newer certificate): that one is still pending.
        if (this.unsaved.get(host) === pending) this.unsaved.delete(host);
        this.options.logger.info({ host }, 'an issued certificate was stored after all');
      } catch (err) {
        pending.error = messageOf(err);
      }
    }
    if (this.unsaved.size > 0) this.scheduleSave();
    else this.saveFailures = 0;
  }

  private async order(host: string, reason: OrderReason): Promise<void> {
    const { logger, store } = this.options;
    this.ordering.add(host);
    logger.info({ host, reason }, 'ordering a certificate');
    const previous = this.rows.get(host);
    try {
      const orderMs = this.options.orderTimeoutMs ?? ORDER_TIMEOUT_MS;
      const obtain = this.options.obtain ?? ((h: string) => this.obtain(h));
      const { certPem, keyPem } = await withinMs((signal) => runOrder(signal, () => obtain(host)), orderMs, () => new AcmeOrderTimeoutError(this.options.config.directory, host, orderMs));
      const pair = hostCertificatePair(host, certPem, keyPem, 'issued');
      const row: StoredCertificate = { host, certPem, keyPem, notAfter: pair.notAfter, failures: 0, updatedAt: new Date() };
      this.rows.set(host, row);
      this.pairs.set(host, pair);
      this.options.changed();
      // Issued is issued: a store that refuses it does not make it an order failure (ordered again, it
      // would spend the CA's rate limit). It serves from memory, and the write is tried again.
      try {
        await store.putCertificate(row);
        this.unsaved.delete(host);
      } catch (err) {
        this.keepUnsaved(row, err);
      }
      logger.info({ host, notAfter: pair.notAfter }, reason === 'missing' ? 'certificate obtained' : 'certificate renewed');
    } catch (err) {
      const failures = (previous?.failures ?? 0) + 1;
      // A CA that asks for a longer wait (a rate limit) is not asked again before it, up to a day: a
      // Retry-After past any date (10^17 s) made retryAt an Invalid Date, due at once at every check.
      const waitMs = Math.max(retryDelayMs(failures), err instanceof AcmeRateLimitedError ? Math.min(err.retryAfterS * 1000, RETRY_MAX_MS) : 0);
      const retryAt = new Date(Date.now() + waitMs);
      // The certificate held so far (if any) keeps serving until it expires.
      const row: StoredCertificate = { ...(previous ?? { host }), host, lastError: orderError(err, this.options.config.directory), failures, retryAt, updatedAt: new Date() };
      await store.putCertificate(row).catch((e: unknown) => logger.error({ host, err: messageOf(e) }, 'cannot store the failed order'));
      this.rows.set(host, row);
      logger.warn({ host, err: row.lastError, failures, retryAt }, 'certificate order failed; retried later');
    } finally {
      this.ordering.delete(host);
    }
  }

  /** One order through acme-client: a fresh P-256 key, HTTP-01 answered from `challenges`. */
  private async obtain(host: string): Promise<{ certPem: string; keyPem: string }> {
    const client = await this.acmeClient();
    const acme = await loadAcmeLibrary();
    const [key, csr] = await acme.crypto.createCsr({ commonName: host, altNames: [host] }, await acme.crypto.createPrivateEcdsaKey('P-256'));
    const { challenges } = this.options;
    const certPem = await client.auto({
      csr,
      email: this.options.config.email,
      termsOfServiceAgreed: true,
      challengePriority: ['http-01'],
      // The CA checks from outside; acme-client's own look through public DNS proves nothing berth needs.
      skipChallengeVerification: true,
      challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
        challenges.set(challenge.token, keyAuthorization);
        await this.options.challengesPublished?.();
      },
      challengeRemoveFn: async (_authz, challenge) => {
        challenges.delete(challenge.token);
      },
    });
    return { certPem, keyPem: key.toString() };
  }

  private async acmeClient(): Promise<Client> {
    if (this.client) return this.client;
    const { config, store } = this.options;
    const acme = await loadAcmeLibrary();
    // acme-client retries an unanswered request 5 times, waiting 5, 10… 25 s by default: 1, 2… 5 s
    // (15 s in all) is enough, as berth backs off between orders itself.
    (acme.axios.defaults as unknown as { acmeSettings: { retryDefaultDelay: number } }).acmeSettings.retryDefaultDelay = 1;
    installAcmeHttp(acme);
    if (config.caRoot) {
      // The ACME server's own certificate is checked against this CA (a test CA such as pebble); acme-client talks through axios.
      acme.axios.defaults.httpsAgent = new Agent({ ca: await readCaRoot(config.caRoot) });
    }
    this.client = new acme.Client({ directoryUrl: config.directory, accountKey: await acmeAccountKey(store), backoffMin: 1_000, backoffMax: 10_000 });
    return this.client;
  }
}

/**
 * The PEM of `tls.acme.caRoot`, checked to hold a certificate; throws an Error
 * naming the file. Read as a certificate file is (file-certificates.ts): a FIFO
 * or a device there fails at once instead of blocking a libuv thread for good.
 * The gateway reads it at start too, so a wrong path fails the start rather
 * than every order.
 */
export async function readCaRoot(path: string): Promise<string> {
  const pem = await readPemFile(path);
  try {
    new X509Certificate(pem);
  } catch (err) {
    throw new Error(`${path}: not a PEM certificate (${messageOf(err)})`);
  }
  return pem;
}

/**
 * What `work` resolves to, or `late()` thrown once `ms` have passed; then
 * `work`'s signal is aborted, which fails its ACME requests (acme-http.ts),
 * and whatever it still does is dropped.
 */
function withinMs<T>(work: (signal: AbortSignal) => Promise<T>, ms: number, late: () => Error): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => (timer = setTimeout(() => {
    reject(late());
    controller.abort();
  }, ms)));
  const promise = work(controller.signal);
  // A late failure of the abandoned order must not surface as an unhandled rejection.
  promise.catch(() => undefined);
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer));
}

/**
 * The reason an order failed, as the API shows it: the CA's own words when it
 * gave some. acme-client ends a request the server never answered with a
 * TypeError of its own (it reads the missing response); that says nothing, so
 * it is told as what it means.
 */
export function orderError(err: unknown, directory: string): string {
  const message = messageOf(err);
  if (err instanceof TypeError && message.includes("reading 'config'")) return `the ACME server at ${directory} did not answer (no connection, after retries)`;
  return message;
}
