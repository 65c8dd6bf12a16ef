import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import { TLS_CONTEXT_OPTIONS } from './tls-policy.js';

/** A certificate chain and its key, checked and ready to serve. */
export interface CertificatePair {
  /** The DNS names it is valid for (subjectAltName, else the CN), lower case; may hold `*.` wildcards. */
  names: string[];
  notBefore: Date;
  notAfter: Date;
  context: SecureContext;
  certPem: string;
  keyPem: string;
}

/**
 * Checks a PEM chain and key and makes their secure context. Throws an Error
 * saying what is wrong with which of the two (`where` names them: file paths, or
 * `certificate for HOST` for a stored one); the caller keeps what it served before.
 */
export function certificatePair(certPem: string, keyPem: string, where: { cert: string; key: string }): CertificatePair {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(certPem);
  } catch (err) {
    throw new Error(`${where.cert}: not a PEM certificate (${(err as Error).message})`);
  }
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new Error(`${where.key}: not a PEM private key (${(err as Error).message})`);
  }
  if (!x509.checkPrivateKey(key)) {
    // A chain pasted intermediate first (or a CA bundle before the leaf) is the usual cause: said as such, not as a wrong key.
    const position = pemCertificates(certPem).findIndex((pem, i) => i > 0 && ownsKey(pem, key));
    if (position > 0) throw new Error(`${where.cert}: the chain is in the wrong order: the certificate of ${where.key} is number ${position + 1} in the file; the server's own certificate must come first, then its intermediates`);
    throw new Error(`${where.key}: the key does not belong to the certificate in ${where.cert}`);
  }
  const names = certificateNames(x509);
  if (names.length === 0) throw new Error(`${where.cert}: the certificate names no DNS host (no subjectAltName DNS entry or CN)`);
  let context: SecureContext;
  try {
    context = createSecureContext({ ...TLS_CONTEXT_OPTIONS, cert: certPem, key: keyPem });
  } catch (err) {
    throw new Error(`${where.cert}: cannot be served with ${where.key}: ${(err as Error).message}`);
  }
  return { names, notBefore: new Date(x509.validFrom), notAfter: new Date(x509.validTo), context, certPem, keyPem };
}

/** What makes a certificate unusable at `nowMs` (clients refuse it): expired, or not valid yet; undefined when valid. */
export function validityProblem(pair: Pick<CertificatePair, 'notBefore' | 'notAfter'>, nowMs: number): string | undefined {
  if (pair.notAfter.getTime() <= nowMs) return `expired on ${pair.notAfter.toISOString()}`;
  if (pair.notBefore.getTime() > nowMs) return `not valid before ${pair.notBefore.toISOString()}`;
  return undefined;
}

/** Each PEM certificate block of a chain, in file order. */
function pemCertificates(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
}

function ownsKey(certPem: string, key: KeyObject): boolean {
  try {
    return new X509Certificate(certPem).checkPrivateKey(key);
  } catch {
    return false;
  }
}

/** The DNS names of a certificate: its subjectAltName DNS entries, or its CN when it has none (old self-made certificates). */
export function certificateNames(x509: X509Certificate): string[] {
  const san = x509.subjectAltName;
  if (san) {
    return san
      .split(', ')
      .filter((entry) => entry.startsWith('DNS:'))
      .map((entry) => entry.slice(4).toLowerCase());
  }
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(x509.subject)?.[1];
  return cn ? [cn.toLowerCase()] : [];
}
