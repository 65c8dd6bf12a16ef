import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { mkdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { fsReason } from '../fs-reason.js';
import { writeOwnerOnly } from '../owner-only-file.js';
import { BerthError, ConflictError, NotFoundError, StoreError, UnauthorizedError } from '../errors.js';
import type { StoredToken, TokenStore } from '../store/store.js';

/** Who made an API call. */
export interface Principal {
  tokenId: string;
  name: string;
}

export interface CreatedToken {
  id: string;
  name: string;
  /** The secret: shown once, never stored. */
  token: string;
  createdAt: Date;
}

const ENV_PRINCIPAL: Principal = { tokenId: 'env', name: 'BERTH_ADMIN_TOKEN' };

/**
 * API tokens: random secrets handed out once and kept only as SHA-256 hashes.
 * A presented token is hashed and looked up by its hash, so the secret is never
 * compared byte by byte; the environment's admin token is compared in constant
 * time.
 */
export class TokenService {
  private readonly envHash?: Buffer;

  constructor(
    private readonly store: TokenStore,
    envToken: string | undefined,
    private readonly logger: Logger,
  ) {
    if (envToken) this.envHash = sha256(envToken);
  }

  /**
   * With BERTH_ADMIN_TOKEN set, that is the admin token. Otherwise a store with
   * no tokens gets one, written owner-only beside the store, so a fresh install
   * is usable without ever being open. `stateDir`: the config's (beside a SQLite file).
   */
  async bootstrap(stateDir: string): Promise<void> {
    if (this.envHash || (await this.store.countTokens()) > 0) return;
    // The file first, then the token: a token stored while its file could not be written (a
    // full disk) locked the API out for good, as the next start, seeing a token, made none.
    const secret = newSecret();
    const file = join(stateDir, 'admin-token');
    try {
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      await writeOwnerOnly(file, secret + '\n');
    } catch (err) {
      throw new StoreError(`cannot write the first admin token to ${file}: ${fsReason(err)}; no token was made. Fix that (or set BERTH_ADMIN_TOKEN) and start again`, { cause: err });
    }
    try {
      await this.create('admin', secret);
    } catch (err) {
      // A file naming a token the store does not hold would only mislead.
      await unlink(file).catch(() => undefined);
      throw err;
    }
    this.logger.info({ file }, 'created the first admin token; it is in this file (readable by its owner only)');
  }

  async verify(authorization: string | undefined): Promise<Principal> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) throw new UnauthorizedError();
    const hash = sha256(match[1]!);
    if (this.envHash && timingSafeEqual(hash, this.envHash)) return ENV_PRINCIPAL;
    const key = hash.toString('hex');
    let token;
    try {
      token = await this.store.findTokenByHash(key);
    } catch (err) {
      // A shared store out of reach: a token this gateway verified before still reads (no revoke can happen meanwhile).
      const known = err instanceof BerthError && err.code === 'store_unavailable' ? this.verified.get(key) : undefined;
      if (known) return known;
      throw err;
    }
    if (!token) {
      this.verified.delete(key);
      throw new UnauthorizedError();
    }
    void this.store.touchToken(token.id, new Date()).catch(() => undefined);
    const principal = { tokenId: token.id, name: token.name };
    if (this.verified.size >= MAX_VERIFIED) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(key, principal);
    return principal;
  }

  /** Tokens verified against the store (hash → principal), the newest MAX_VERIFIED: what an outage of the store still accepts. */
  private readonly verified = new Map<string, Principal>();

  /**
   * Names that differ only in case (`ci`, `CI`) are refused: two such tokens read
   * as one in a list, and revoking one by name leaves the other working.
   */
  async create(name: string, secret = newSecret()): Promise<CreatedToken> {
    const clash = nameClash(await this.store.listTokens(), name);
    if (clash) throw new ConflictError(clash === name ? `a token named "${name}" already exists` : `a token named "${clash}" already exists; token names must differ in more than case`);
    const stored = await this.store.createToken({ id: randomUUID(), name, hash: sha256(secret).toString('hex') });
    return { id: stored.id, name: stored.name, token: secret, createdAt: stored.createdAt };
  }

  list(): Promise<StoredToken[]> {
    return this.store.listTokens();
  }

  /**
   * The last token in the store is not revoked (unless BERTH_ADMIN_TOKEN opens the
   * API anyway): without one, every call is refused until someone reads the data
   * dir of a restarted gateway. Another is created first, then this one revoked.
   */
  async revoke(idOrName: string): Promise<void> {
    const revoked = await this.store.revokeToken(idOrName, { keepOne: !this.envHash });
    if (revoked === 'last') throw new ConflictError(`token ${idOrName} is the last token: revoking it would lock the API out; create another first (berth token create NAME), then revoke this one`);
    if (!revoked) throw new NotFoundError(`no token ${idOrName}`);
    for (const [key, p] of this.verified) if (p.tokenId === idOrName || p.name === idOrName) this.verified.delete(key);
    for (const listener of this.revokedListeners) listener(idOrName);
  }

  /**
   * Calls `listener` with the id or name of every token revoked through this
   * service, so what the token opened (an event stream, a log follow) is ended too.
   * Returns the unsubscribe.
   */
  onRevoked(listener: (idOrName: string) => void): () => void {
    this.revokedListeners.add(listener);
    return () => this.revokedListeners.delete(listener);
  }

  private readonly revokedListeners = new Set<(idOrName: string) => void>();
}

/** How many verified tokens are remembered for a store outage. */
const MAX_VERIFIED = 256;

/** The existing token name equal to `name` but for case, if any. Pure. */
export function nameClash(tokens: readonly { name: string }[], name: string): string | undefined {
  const folded = name.toLowerCase();
  return tokens.find((t) => t.name.toLowerCase() === folded)?.name;
}

/** A new token's secret: 32 random bytes. */
function newSecret(): string {
  return `berth_${randomBytes(32).toString('base64url')}`;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

