import type { SecureContext } from 'node:tls';
import { http01Answer } from './acme/http01-answer.js';
import type { Logger } from 'pino';
import type { TlsConfig } from '../config/config.js';
import type { EdgeSnapshot } from '../cluster/state-feed.js';
import type { EdgeHooks } from '../proxy/proxy-server.js';
import type { RouteMatch } from '../proxy/route-table.js';
import type { AppSpec } from '../spec/types.js';
import type { CertificatePair } from './certificate-pair.js';
import { hstsValue, httpsRedirect } from './edge-policy.js';
import { FileCertificates } from './file-certificates.js';
import { SniIndex } from './sni-index.js';

/** A certificate from files as the API and dashboard show it. */
export interface FileCertificateView {
  names: string[];
  source: 'file';
  /** not-yet-valid: its notBefore is still to come (clients refuse it as they do an expired one). */
  status: 'valid' | 'expired' | 'not-yet-valid';
  /** The certificate file. */
  cert: string;
  notAfter?: string;
  /** Why the files as they are now were refused (the certificate shown serves on meanwhile). */
  lastError?: string;
}

export interface TlsEdgeOptions {
  logger: Logger;
  /** The desired apps by name (for HSTS). */
  specs: () => ReadonlyMap<string, AppSpec>;
  /** The port the TLS listener is bound to (redirects point there unless `redirectPort` says otherwise). */
  tlsPort: () => number;
  /** Told after each rebuild (proxy workers serve the certificates from snapshot()). */
  changed?: () => void;
}

/**
 * What the gateway's HTTPS knows at any moment: the certificates by name (files
 * first, then ACME's), the pending HTTP-01 challenges, and the redirect and HSTS
 * rules. The proxy asks it through EdgeHooks; the TLS listener through contextFor.
 */
export class TlsEdge implements EdgeHooks {
  private index = new SniIndex<SecureContext>();
  /** The file certificates' names alone: ACME leaves the hosts they cover to them. */
  private fileIndex = new SniIndex<true>();
  private files?: FileCertificates;
  private acme: () => Iterable<CertificatePair> = () => [];
  /** Every pair in the index, in the order added (files first). */
  private pairs: CertificatePair[] = [];
  /** Token → key authorization of the HTTP-01 challenges under way (the ACME client fills it). */
  readonly challenges = new Map<string, string>();
  /** The account's thumbprint when challenges are answered for any token (several gateways: http01Answer). */
  private anyToken?: string;

  constructor(
    private config: TlsConfig,
    private readonly options: TlsEdgeOptions,
  ) {}

  /** Loads the config's certificate files (throws a ConfigError naming a bad one), watched from then on. */
  async loadFiles(config: TlsConfig): Promise<void> {
    (await this.prepareFiles(config))();
  }

  /**
   * Loads and checks the config's certificate files (throws a ConfigError
   * naming a bad one) and answers the step that serves them with the config's
   * rules: a reload takes it only once everything else of it is committed, so
   * a reload refused later (a store failing) leaves the edge as it was.
   */
  async prepareFiles(config: TlsConfig): Promise<() => void> {
    const files = await FileCertificates.load(config.certificates, this.options.logger, () => this.rebuild(), this.files);
    return () => {
      this.files?.close();
      this.files = files;
      this.config = config;
      files.watch();
      this.rebuild();
    };
  }

  /** Where ACME's certificates come from (asked at every rebuild). */
  setAcmeSource(source: () => Iterable<CertificatePair>): void {
    this.acme = source;
    this.rebuild();
  }

  /** Makes the name index again from every source; a handshake sees the old or the new one whole. */
  rebuild(): void {
    const index = new SniIndex<SecureContext>();
    const fileIndex = new SniIndex<true>();
    const files = this.files?.list ?? [];
    for (const pair of files) {
      index.add(pair.names, pair.context);
      fileIndex.add(pair.names, true);
    }
    this.fileIndex = fileIndex;
    const acme = [...this.acme()];
    for (const pair of acme) index.add(pair.names, pair.context);
    this.index = index;
    this.pairs = [...files, ...acme];
    this.options.changed?.();
  }

  /** What a proxy worker serves of this edge, now. */
  snapshot(): EdgeSnapshot {
    return {
      certificates: this.pairs.map(({ names, certPem, keyPem }) => ({ names, certPem, keyPem })),
      challenges: [...this.challenges],
      ...(this.anyToken !== undefined ? { anyToken: this.anyToken } : {}),
      redirect: this.config.redirect,
      tlsPort: this.redirectPort(),
    };
  }

  contextFor(serverName: string): SecureContext | undefined {
    return this.index.lookup(serverName);
  }

  /** Whether a file certificate serves `host` (then ACME orders none for it). */
  coveredByFile(host: string): boolean {
    return this.fileIndex.lookup(host) !== undefined;
  }

  /** The file certificates as the API shows them. */
  fileViews(): FileCertificateView[] {
    const now = Date.now();
    return this.config.certificates.map((files, i) => {
      const pair = this.files?.list[i];
      const lastError = this.files?.refusal(i);
      const status = !pair || pair.notAfter.getTime() <= now ? ('expired' as const) : pair.notBefore.getTime() > now ? ('not-yet-valid' as const) : ('valid' as const);
      return { names: pair?.names ?? [], source: 'file' as const, status, cert: files.cert, ...(pair ? { notAfter: pair.notAfter.toISOString() } : {}), ...(lastError !== undefined ? { lastError } : {}) };
    });
  }

  challenge(token: string): string | undefined {
    return http01Answer(token, this.challenges, this.anyToken);
  }

  /** Answers HTTP-01 challenges for any token with this account thumbprint (http01Answer). */
  answerAnyToken(thumbprint: string): void {
    this.anyToken = thumbprint;
    this.options.changed?.();
  }

  redirect(match: RouteMatch, target: string): string | undefined {
    return httpsRedirect(match, target, this.config.redirect, this.redirectPort());
  }

  /** The port redirects name: the configured one (clients reach the listener through a mapping), else the listener's. */
  private redirectPort(): number {
    return this.config.redirectPort ?? this.options.tlsPort();
  }

  hsts(app: string): string | undefined {
    const hsts = this.options.specs().get(app)?.hsts;
    return hsts && hstsValue(hsts);
  }

  close(): void {
    this.files?.close();
  }
}
