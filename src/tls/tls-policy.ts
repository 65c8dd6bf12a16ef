import type { SecureContextOptions } from 'node:tls';

/**
 * The TLS settings every certificate is served with: TLS 1.2 and 1.3 only, and
 * for 1.2 only AEAD suites with forward secrecy (Mozilla's "intermediate"
 * profile without the DHE suites, which would need a dhparam file). TLS 1.3's
 * suites are all modern; they are listed so the list says everything.
 */
export const TLS_MIN_VERSION = 'TLSv1.2' as const;
export const TLS_MAX_VERSION = 'TLSv1.3' as const;

export const TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** What each certificate's secure context and the listener itself are made with. */
export const TLS_CONTEXT_OPTIONS: SecureContextOptions = {
  minVersion: TLS_MIN_VERSION,
  maxVersion: TLS_MAX_VERSION,
  ciphers: TLS_CIPHERS,
  honorCipherOrder: true,
  ecdhCurve: 'X25519:prime256v1:secp384r1',
};
