/**
 * The first admin token is written to `admin-token` beside the store. A file of that name
 * left with a looser mode (a wiped store's, copied with `cp`) was written in place: a local
 * user who had it open (readable then) read the new token through that descriptor, whatever
 * mode it was given afterwards. It is now a new file, owner-only from its first byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, open, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { TokenService } from '../../src/api/token-service.js';
import { StoreError } from '../../src/errors.js';
import type { StoredToken, TokenStore } from '../../src/store/store.js';

function emptyStore(): TokenStore {
  const tokens: StoredToken[] = [];
  return {
    createToken: async (t) => {
      const stored = { ...t, createdAt: new Date() };
      tokens.push(stored);
      return stored;
    },
    listTokens: async () => [...tokens],
    findTokenByHash: async (hash) => tokens.find((t) => t.hash === hash),
    revokeToken: async () => false,
    touchToken: async () => undefined,
    countTokens: async () => tokens.length,
  };
}

test('the first admin token goes to a new owner-only file, never into an old file someone holds open', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-admin-token-'));
  try {
    const file = join(dir, 'admin-token');
    await writeFile(file, 'old\n');
    await chmod(file, 0o644);
    const reader = await open(file, 'r');
    try {
      await new TokenService(emptyStore(), undefined, pino({ level: 'silent' })).bootstrap(dir);
      const token = (await readFile(file, 'utf8')).trim();
      assert.match(token, /^berth_/);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      const seen = (await reader.readFile('utf8')).trim();
      assert.ok(!seen.includes(token), 'the descriptor opened before reads no token');
    } finally {
      await reader.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// The token used to be stored first and its file written after: a file that could not be
// written (a full disk, a read-only data dir) left a token in the store that nobody could
// read, and the next start, seeing a token, made no new one: the API was locked out for good.
test('an admin-token file that cannot be written leaves no token in the store; the next start makes one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-admin-token-'));
  try {
    // A regular file where the data dir should be: writing under it fails, as a full disk would.
    const blocked = join(dir, 'not-a-dir');
    await writeFile(blocked, '');
    const store = emptyStore();
    const service = new TokenService(store, undefined, pino({ level: 'silent' }));
    await assert.rejects(service.bootstrap(join(blocked, 'data')), (err: unknown) => {
      assert.ok(err instanceof StoreError, String(err));
      assert.match(err.message, new RegExp(`^cannot write the first admin token to ${join(blocked, 'data', 'admin-token')}: `));
      return true;
    });
    assert.equal(await store.countTokens(), 0);
    await service.bootstrap(dir);
    const token = (await readFile(join(dir, 'admin-token'), 'utf8')).trim();
    assert.deepEqual(await service.verify(`Bearer ${token}`), { tokenId: (await store.listTokens())[0]!.id, name: 'admin' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a token the store refuses leaves no admin-token file behind', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-admin-token-'));
  try {
    const store = { ...emptyStore(), createToken: async () => Promise.reject(new StoreError('store at x: cannot create token "admin": the disk is full')) };
    await assert.rejects(new TokenService(store, undefined, pino({ level: 'silent' })).bootstrap(dir), /the disk is full/);
    assert.deepEqual(await readdir(dir), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
