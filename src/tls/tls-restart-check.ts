import type { Logger } from 'pino';
import type { TlsConfig } from '../config/config.js';
import { ConfigError, messageOf } from '../errors.js';
import { readCaRoot } from './acme/acme-manager.js';
import { FileCertificates } from './file-certificates.js';

/**
 * Checks an ACME caRoot as the start does: a wrong one fails the start, naming it,
 * rather than each order later.
 */
export async function checkCaRoot(tls: TlsConfig): Promise<void> {
  if (!tls.acme?.caRoot) return;
  await readCaRoot(tls.acme.caRoot).catch((err: unknown) => Promise.reject(new ConfigError(`tls.acme.caRoot: ${messageOf(err)}`)));
}

/**
 * Checks a `tls` block a reload brings while no HTTPS listener runs (one added to
 * the config): it takes effect only at the next start, which would fail on it if
 * its files were missing, unreadable or not a pair. Checked now as the start will
 * (every certificate file, the ACME caRoot), so the reload is refused with the file
 * at fault instead of the restart failing long after the edit. Nothing is served.
 */
export async function checkTlsForStart(tls: TlsConfig, logger: Logger): Promise<void> {
  await FileCertificates.load(tls.certificates, logger, () => undefined);
  await checkCaRoot(tls);
}
