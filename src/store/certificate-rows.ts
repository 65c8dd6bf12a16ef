import type { StoredCertificate } from './store.js';

/** A `certificates` row as both stores read and write it (times in epoch milliseconds). */
export interface CertificateRow {
  host: string;
  cert: string | null;
  key: string | null;
  not_after: number | null;
  last_error: string | null;
  failures: number;
  retry_at: number | null;
  updated_at: number;
}

export const CERTIFICATE_COLUMNS = 'host, cert, key, not_after, last_error, failures, retry_at, updated_at';

export function rowToCertificate(r: CertificateRow): StoredCertificate {
  const out: StoredCertificate = { host: r.host, failures: Number(r.failures), updatedAt: new Date(Number(r.updated_at)) };
  if (r.cert !== null) out.certPem = r.cert;
  if (r.key !== null) out.keyPem = r.key;
  if (r.not_after !== null) out.notAfter = new Date(Number(r.not_after));
  if (r.last_error !== null) out.lastError = r.last_error;
  if (r.retry_at !== null) out.retryAt = new Date(Number(r.retry_at));
  return out;
}

export function certificateToRow(c: StoredCertificate): CertificateRow {
  return {
    host: c.host,
    cert: c.certPem ?? null,
    key: c.keyPem ?? null,
    not_after: c.notAfter?.getTime() ?? null,
    last_error: c.lastError ?? null,
    failures: c.failures,
    retry_at: c.retryAt?.getTime() ?? null,
    updated_at: c.updatedAt.getTime(),
  };
}
