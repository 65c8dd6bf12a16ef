import { createECDH, createHash, createPrivateKey } from 'node:crypto';
import type { Store } from '../../store/store.js';

/** The account key's JWK (P-256) from its private scalar, the store's `acme-account` secret. */
function accountJwk(d: Buffer): { kty: 'EC'; crv: 'P-256'; d: string; x: string; y: string } {
  const ecdh = createECDH('prime256v1');
  // A random 32-byte value is below the curve order but for a chance of about 2^-32.
  ecdh.setPrivateKey(d);
  const pub = ecdh.getPublicKey();
  return { kty: 'EC', crv: 'P-256', d: d.toString('base64url'), x: pub.subarray(1, 33).toString('base64url'), y: pub.subarray(33, 65).toString('base64url') };
}

/**
 * The ACME account key, a P-256 key whose private scalar is the store's
 * `acme-account` secret: every gateway on the store signs as the same account,
 * and nothing but the 32 random bytes the store already keeps is stored.
 */
export async function acmeAccountKey(store: Pick<Store, 'getOrCreateSecret'>): Promise<string> {
  const jwk = accountJwk(await store.getOrCreateSecret('acme-account'));
  return createPrivateKey({ key: jwk, format: 'jwk' }).export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * The account key's JWK thumbprint (RFC 7638: SHA-256 of its public members in
 * lexical order, base64url), the second half of every HTTP-01 key authorization
 * (RFC 8555 §8.1). Public: the CA sees the key it is made from.
 */
export async function acmeAccountThumbprint(store: Pick<Store, 'getOrCreateSecret'>): Promise<string> {
  const { crv, kty, x, y } = accountJwk(await store.getOrCreateSecret('acme-account'));
  return createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest('base64url');
}
