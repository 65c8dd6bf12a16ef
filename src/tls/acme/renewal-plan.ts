import { isIP } from 'node:net';
import { doublingDelayMs } from '../../backoff.js';
import type { AppSpec } from '../../spec/types.js';
import type { StoredCertificate } from '../../store/store.js';

/** The first retry after a failed order; each failure in a row doubles it, up to RETRY_MAX_MS (Caddy's shape). */
export const RETRY_MIN_MS = 60_000;
export const RETRY_MAX_MS = 24 * 3_600_000;

/**
 * The hosts ACME can get a certificate for: every exact route host of the apps,
 * lower case, once each. Wildcards need DNS-01 (not done: give them files), IP
 * addresses and single-label names (localhost) no public CA signs.
 */
export function acmeHosts(specs: Iterable<AppSpec>): string[] {
  const hosts = new Set<string>();
  for (const spec of specs) {
    for (const route of spec.routes) {
      const host = route.host?.toLowerCase();
      if (host === undefined || host.startsWith('*.') || isIP(host.replace(/^\[|\]$/g, '')) !== 0 || !host.includes('.')) continue;
      hosts.add(host);
    }
  }
  return [...hosts].sort();
}

/** Why a host is ordered now. */
export type OrderReason = 'missing' | 'expiring';

/**
 * How long before its expiry a certificate living `lifetimeMs` (notBefore to
 * notAfter; undefined: not known) is renewed: `renewBeforeMs`, or a third of
 * its lifetime when that is shorter (Caddy's rule). A CA issuing short-lived
 * certificates (Let's Encrypt's 6-day profile, step-ca's 24 h) would
 * otherwise have each one "expiring" from its issue on, ordered again at
 * every check, hitting the CA's limit on duplicate certificates.
 */
export function renewalWindowMs(renewBeforeMs: number, lifetimeMs: number | undefined): number {
  return lifetimeMs === undefined || lifetimeMs <= 0 ? renewBeforeMs : Math.min(renewBeforeMs, Math.floor(lifetimeMs / 3));
}

/**
 * Which hosts to order now, and why: one without a certificate (or with one
 * that `servable` says cannot serve it: corrupt, not its key, for other
 * names), or whose certificate ends within its renewal window
 * (renewalWindowMs, `lifetimeMs` giving its certificate's lifetime); never
 * one still waiting out its backoff after a failure, nor one a file
 * certificate covers.
 */
export function dueOrders(
  hosts: readonly string[],
  stored: ReadonlyMap<string, StoredCertificate>,
  nowMs: number,
  renewBeforeMs: number,
  coveredByFile: (host: string) => boolean,
  servable: (host: string) => boolean = () => true,
  lifetimeMs: (host: string) => number | undefined = () => undefined,
): Array<{ host: string; reason: OrderReason }> {
  const due: Array<{ host: string; reason: OrderReason }> = [];
  for (const host of hosts) {
    if (coveredByFile(host)) continue;
    const row = stored.get(host);
    if (row?.retryAt !== undefined && row.retryAt.getTime() > nowMs) continue;
    if (row?.certPem === undefined || row.notAfter === undefined || !servable(host)) due.push({ host, reason: 'missing' });
    else if (row.notAfter.getTime() - nowMs <= renewalWindowMs(renewBeforeMs, lifetimeMs(host))) due.push({ host, reason: 'expiring' });
  }
  return due;
}

/** How long after its `failures`-th failure in a row a host is ordered again. */
export function retryDelayMs(failures: number): number {
  if (failures <= 0) return 0;
  return doublingDelayMs(failures - 1, RETRY_MIN_MS, RETRY_MAX_MS);
}

/**
 * When the next check is due: the regular interval, or sooner when the backoff
 * of a host still ordered (`ordered`) ends before it. A row of a host no
 * longer ordered (its app removed, a file certificate given) keeps its
 * retryAt, which once past would have made every check due at once again: the
 * checks ran back to back, each reading the store.
 */
export function nextCheckInMs(stored: Iterable<StoredCertificate>, nowMs: number, checkEveryMs: number, ordered: (host: string) => boolean = () => true): number {
  let next = checkEveryMs;
  for (const row of stored) {
    if (row.retryAt === undefined || !ordered(row.host)) continue;
    next = Math.min(next, Math.max(0, row.retryAt.getTime() - nowMs));
  }
  return next;
}
