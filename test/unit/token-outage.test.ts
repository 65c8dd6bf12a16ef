// Tokens while a shared store is out of reach: one this gateway verified before
// still reads; an unknown one, or a store that fails otherwise, is not accepted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { StoreError, StoreUnavailableError } from '../../src/errors.js';
import { TokenService } from '../../src/api/token-service.js';
import type { StoredToken, TokenStore } from '../../src/store/store.js';

class FlakyTokens implements TokenStore {
  failure?: Error;
  readonly tokens: Array<StoredToken & { hash: string }> = [];
  async createToken(t: { id: string; name: string; hash: string }): Promise<StoredToken> {
    const stored = { ...t, createdAt: new Date() };
    this.tokens.push(stored);
    return stored;
  }
  async listTokens(): Promise<StoredToken[]> {
    return this.tokens;
  }
  async findTokenByHash(hash: string): Promise<StoredToken | undefined> {
    if (this.failure) throw this.failure;
    return this.tokens.find((t) => t.hash === hash);
  }
  async revokeToken(idOrName: string): Promise<boolean> {
    const i = this.tokens.findIndex((t) => t.id === idOrName || t.name === idOrName);
    if (i < 0) return false;
    this.tokens.splice(i, 1);
    return true;
  }
  async touchToken(): Promise<void> {}
  async countTokens(): Promise<number> {
    return this.tokens.length;
  }
}

test('a verified token still reads while the store is out of reach; others do not', async () => {
  const store = new FlakyTokens();
  const tokens = new TokenService(store, undefined, pino({ level: 'silent' }));
  const known = await tokens.create('ops');
  const unseen = await tokens.create('ci');
  assert.equal((await tokens.verify(`Bearer ${known.token}`)).name, 'ops');

  store.failure = new StoreUnavailableError('the store cannot be reached');
  assert.equal((await tokens.verify(`Bearer ${known.token}`)).name, 'ops', 'verified before: accepted');
  await assert.rejects(tokens.verify(`Bearer ${unseen.token}`), (err: unknown) => err instanceof StoreUnavailableError, 'never verified: the outage is the answer');

  store.failure = new StoreError('some other failure');
  await assert.rejects(tokens.verify(`Bearer ${known.token}`), (err: unknown) => err instanceof StoreError && !(err instanceof StoreUnavailableError));

  store.failure = undefined;
  await tokens.revoke('ops');
  store.failure = new StoreUnavailableError('the store cannot be reached');
  await assert.rejects(tokens.verify(`Bearer ${known.token}`), (err: unknown) => err instanceof StoreUnavailableError, 'a revoked token is forgotten');
});
