import { Agent } from 'node:https';
import { readFile } from 'node:fs/promises';
import * as acme from 'acme-client';
import type { Logger } from 'pino';
import type { AcmeConfig } from '../../config/config.js';
import { messageOf } from '../../errors.js';
import type { Store, StoredCertificate } from '../../store/store.js';
import { certificatePair, type CertificatePair } from '../certificate-pair.js';
import { acmeAccountKey } from './acme-account.js';
import { dueOrders, nextCheckInMs, retryDelayMs, type OrderReason } from './renewal-plan.js';

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
}

/** One host's certificate as the API and dashboard show it. */
export interface AcmeCertificateView {
  host: string;
  source: 'acme';
  /** valid: served; ordering: an order is under way; failed: the last order failed (retried at retryAt); pending: none yet. */
  status: 'valid' | 'ordering' | 'failed' | 'pending';
  notAfter?: string;
  lastError?: string;
  failures: number;
  retryAt?: string;
}

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
  private client?: acme.Client;

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
    return this.options.hosts().filter((h) => !this.options.coveredByFile(h)).map((host) => {
      const row = this.rows.get(host);
      const status = this.ordering.has(host) ? 'ordering' : row?.lastError !== undefined ? 'failed' : this.pairs.has(host) ? 'valid' : 'pending';
      const view: AcmeCertificateView = { host, source: 'acme', status, failures: row?.failures ?? 0 };
      if (row?.notAfter) view.notAfter = row.notAfter.toISOString();
      if (row?.lastError !== undefined) view.lastError = row.lastError;
      if (row?.retryAt) view.retryAt = row.retryAt.toISOString();
      return view;
    });
  }

  /** The apps' hosts changed: check soon (a new host gets its order without waiting for the interval). */
  hostsChanged(): void {
    this.schedule(0);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
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
    this.schedule(nextCheckInMs(this.rows.values(), Date.now(), this.options.config.checkEveryMs));
  }

  private async checkNow(): Promise<void> {
    // Another gateway on the store may have renewed meanwhile: what it stored is used, not ordered again.
    await this.refresh();
    const { config } = this.options;
    for (const { host, reason } of dueOrders(this.options.hosts(), this.rows, Date.now(), config.renewBeforeMs, this.options.coveredByFile)) {
      if (this.closed) return;
      await this.order(host, reason);
    }
  }

  /** Reads the store's rows; each certificate that checks out is served. */
  private async refresh(): Promise<void> {
    const rows = await this.options.store.listCertificates();
    let changed = false;
    for (const row of rows) {
      const before = this.rows.get(row.host);
      if (row.certPem !== undefined && row.keyPem !== undefined && row.certPem !== before?.certPem) {
        try {
          this.pairs.set(row.host, certificatePair(row.certPem, row.keyPem, { cert: `stored certificate of ${row.host}`, key: `stored key of ${row.host}` }));
          changed = true;
        } catch (err) {
          this.options.logger.error({ host: row.host, err: messageOf(err) }, 'a stored certificate cannot be served');
        }
      }
    }
    this.rows = new Map(rows.map((r) => [r.host, r]));
    if (changed) this.options.changed();
  }

  private async order(host: string, reason: OrderReason): Promise<void> {
    const { logger, store } = this.options;
    this.ordering.add(host);
    logger.info({ host, reason }, 'ordering a certificate');
    const previous = this.rows.get(host);
    try {
      const { certPem, keyPem } = await this.obtain(host);
      const pair = certificatePair(certPem, keyPem, { cert: `certificate issued for ${host}`, key: `key made for ${host}` });
      const row: StoredCertificate = { host, certPem, keyPem, notAfter: pair.notAfter, failures: 0, updatedAt: new Date() };
      await store.putCertificate(row);
      this.rows.set(host, row);
      this.pairs.set(host, pair);
      this.options.changed();
      logger.info({ host, notAfter: pair.notAfter }, reason === 'missing' ? 'certificate obtained' : 'certificate renewed');
    } catch (err) {
      const failures = (previous?.failures ?? 0) + 1;
      const retryAt = new Date(Date.now() + retryDelayMs(failures));
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

  private async acmeClient(): Promise<acme.Client> {
    if (this.client) return this.client;
    const { config, store } = this.options;
    // acme-client retries an unanswered request 5 times, waiting 5, 10… 25 s by default: 1, 2… 5 s
    // (15 s in all) is enough, as berth backs off between orders itself.
    (acme.axios.defaults as unknown as { acmeSettings: { retryDefaultDelay: number } }).acmeSettings.retryDefaultDelay = 1;
    if (config.caRoot) {
      // The ACME server's own certificate is checked against this CA (a test CA such as pebble); acme-client talks through axios.
      acme.axios.defaults.httpsAgent = new Agent({ ca: await readFile(config.caRoot, 'utf8') });
    }
    this.client = new acme.Client({ directoryUrl: config.directory, accountKey: await acmeAccountKey(store), backoffMin: 1_000, backoffMax: 10_000 });
    return this.client;
  }
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
