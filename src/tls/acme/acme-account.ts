import { createECDH, createPrivateKey } from 'node:crypto';
import type { Store } from '../../store/store.js';

/**
 * The ACME account key, a P-256 key whose private scalar is the store's
 * `acme-account` secret: every gateway on the store signs as the same account,
 * and nothing but the 32 random bytes the store already keeps is stored.
 */
export async function acmeAccountKey(store: Store): Promise<string> {
  const d = await store.getOrCreateSecret('acme-account');
  const ecdh = createECDH('prime256v1');
  // A random 32-byte value is below the curve order but for a chance of about 2^-32.
  ecdh.setPrivateKey(d);
  const pub = ecdh.getPublicKey();
  const jwk = { kty: 'EC', crv: 'P-256', d: d.toString('base64url'), x: pub.subarray(1, 33).toString('base64url'), y: pub.subarray(33, 65).toString('base64url') };
  return createPrivateKey({ key: jwk, format: 'jwk' }).export({ type: 'pkcs8', format: 'pem' }).toString();
}
