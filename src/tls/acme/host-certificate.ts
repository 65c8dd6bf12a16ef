import { certificatePair, type CertificatePair } from '../certificate-pair.js';
import { SniIndex } from '../sni-index.js';

/**
 * An ACME certificate for `host`, checked as a file pair is (it parses, its key
 * is its own) and also for naming `host`: a CA that answers an order with a
 * certificate for other names, or a store row written for another host, must
 * not leave the host without a certificate while it reads `valid` (it would
 * not be ordered again before that certificate's expiry). Throws an Error
 * saying what is wrong; `origin` says where the pair came from.
 */
export function hostCertificatePair(host: string, certPem: string, keyPem: string, origin: 'issued' | 'stored'): CertificatePair {
  const where = origin === 'issued' ? { cert: `certificate issued for ${host}`, key: `key made for ${host}` } : { cert: `stored certificate of ${host}`, key: `stored key of ${host}` };
  const pair = certificatePair(certPem, keyPem, where);
  const names = new SniIndex<true>();
  names.add(pair.names, true);
  if (names.lookup(host) === undefined) throw new Error(`the certificate ${origin} for ${host} names ${pair.names.join(', ')}, not ${host}`);
  return pair;
}
