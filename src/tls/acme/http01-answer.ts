/** What an HTTP-01 token is made of (RFC 8555 §8.1, §8.3: base64url, at least 128 bits of entropy). */
const HTTP01_TOKEN = /^[A-Za-z0-9_-]{22,256}$/;

/**
 * The answer to `/.well-known/acme-challenge/<token>`: the key authorization of a
 * challenge this gateway's order left pending; else, when `anyToken` holds the
 * account's thumbprint, `<token>.<thumbprint>` for any well-formed token.
 *
 * Why any token: with several gateways on one store only the leader orders, and
 * the CA's request for a challenge lands on whichever gateway the host's DNS or
 * load balancer picks. Every gateway signs as the one account of the store, so
 * each can answer a challenge it did not ask for ("stateless" HTTP-01). That
 * proves control of the host only to this account, whose key only the store holds.
 */
export function http01Answer(token: string, pending: ReadonlyMap<string, string>, anyToken: string | undefined): string | undefined {
  const known = pending.get(token);
  if (known !== undefined) return known;
  return anyToken !== undefined && HTTP01_TOKEN.test(token) ? `${token}.${anyToken}` : undefined;
}
