import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConflictError, StoreError } from '../../src/errors.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';

let root = '';
before(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'berth-tokens-'));
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function withStore<T>(path: string, fn: (store: SqliteStore) => Promise<T>): Promise<T> {
  const store = new SqliteStore({ path });
  await store.open();
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const memory = <T>(fn: (store: SqliteStore) => Promise<T>) => withStore(':memory:', fn);

describe('SqliteStore tokens', () => {
  it('creates a token and finds it by the hash of its secret, never by anything else', async () => {
    await memory(async (store) => {
      const before = Date.now();
      const created = await store.createToken({ id: 'id-1', name: 'ci', hash: 'a'.repeat(64) });
      assert.equal(created.id, 'id-1');
      assert.equal(created.name, 'ci');
      assert.equal(created.hash, 'a'.repeat(64));
      assert.ok(created.createdAt.getTime() >= before && created.createdAt.getTime() <= Date.now());
      assert.equal('lastUsedAt' in created, false, 'a new token was never used');

      assert.deepEqual(await store.findTokenByHash('a'.repeat(64)), created);
      assert.equal(await store.findTokenByHash('b'.repeat(64)), undefined);
      assert.equal(await store.findTokenByHash('ci'), undefined, 'a name is not a hash');
      assert.equal(await store.findTokenByHash('id-1'), undefined, 'an id is not a hash');
      assert.equal(await store.countTokens(), 1);
    });
  });

  it('refuses a second token with the same name as a ConflictError, and stores nothing', async () => {
    await memory(async (store) => {
      await store.createToken({ id: 'id-1', name: 'ci', hash: 'h1' });
      await assert.rejects(store.createToken({ id: 'id-2', name: 'ci', hash: 'h2' }), (err: unknown) => {
        assert.ok(err instanceof ConflictError, `expected ConflictError, got ${String(err)}`);
        assert.equal(err.code, 'conflict');
        assert.equal(err.message, 'a token named "ci" already exists');
        return true;
      });
      assert.equal(await store.countTokens(), 1);
      assert.equal(await store.findTokenByHash('h2'), undefined);
    });
  });

  it('reports any other constraint failure (a repeated hash) as a StoreError, not a conflict of names', async () => {
    await memory(async (store) => {
      await store.createToken({ id: 'id-1', name: 'one', hash: 'same' });
      await assert.rejects(store.createToken({ id: 'id-2', name: 'two', hash: 'same' }), (err: unknown) => {
        assert.ok(err instanceof StoreError && !(err instanceof ConflictError));
        assert.match(err.message, /cannot create token "two".*UNIQUE constraint failed: tokens\.hash/);
        return true;
      });
    });
  });

  it('lists tokens oldest first', async () => {
    await memory(async (store) => {
      // Creation times may fall in the same millisecond; names break the tie. Each next one waits for the clock to
      // pass the last creation time, not a fixed 5 ms: a timer counts from the loop's cached time, which lags the
      // clock on a loaded machine, so 5 ms could end in the same millisecond and the tie put alpha before zulu.
      const after = async (created: { createdAt: Date }) => {
        while (Date.now() <= created.createdAt.getTime()) await new Promise((r) => setTimeout(r, 1));
      };
      await after(await store.createToken({ id: '1', name: 'zulu', hash: 'h1' }));
      await after(await store.createToken({ id: '2', name: 'alpha', hash: 'h2' }));
      await store.createToken({ id: '3', name: 'mike', hash: 'h3' });
      const list = await store.listTokens();
      assert.deepEqual(list.map((t) => t.name), ['zulu', 'alpha', 'mike']);
      assert.ok(list.every((t) => t.createdAt instanceof Date));
    });
  });

  it('revokes by id or by name; a revoked token is neither found nor listed, and its name is free again', async () => {
    await memory(async (store) => {
      await store.createToken({ id: 'id-1', name: 'ci', hash: 'h1' });
      await store.createToken({ id: 'id-2', name: 'laptop', hash: 'h2' });

      assert.equal(await store.revokeToken('id-1'), true);
      assert.equal(await store.findTokenByHash('h1'), undefined);
      assert.deepEqual((await store.listTokens()).map((t) => t.name), ['laptop']);
      assert.equal(await store.revokeToken('id-1'), false, 'already revoked');
      assert.equal(await store.revokeToken('ci'), false, 'its name is gone too');

      assert.equal(await store.revokeToken('laptop'), true);
      assert.equal(await store.findTokenByHash('h2'), undefined);
      assert.equal(await store.countTokens(), 0);
      assert.equal(await store.revokeToken('never-existed'), false);

      const again = await store.createToken({ id: 'id-3', name: 'ci', hash: 'h3' });
      assert.equal(again.name, 'ci');
      assert.equal(await store.findTokenByHash('h1'), undefined, 'the old secret stays dead');
    });
  });

  it('revokes only the token whose id matches when a name equals another token id', async () => {
    await memory(async (store) => {
      await store.createToken({ id: 'abc', name: 'first', hash: 'h1' });
      await store.createToken({ id: 'def', name: 'abc', hash: 'h2' });
      assert.equal(await store.revokeToken('abc'), true);
      assert.deepEqual((await store.listTokens()).map((t) => [t.id, t.name]), [['def', 'abc']]);
    });
  });

  it('records the last use, never moving it backwards', async () => {
    await memory(async (store) => {
      await store.createToken({ id: 'id-1', name: 'ci', hash: 'h1' });
      await store.touchToken('id-1', new Date(2_000_000));
      assert.deepEqual((await store.findTokenByHash('h1'))!.lastUsedAt, new Date(2_000_000));
      await store.touchToken('id-1', new Date(1_000_000));
      assert.deepEqual((await store.findTokenByHash('h1'))!.lastUsedAt, new Date(2_000_000));
      await store.touchToken('id-1', new Date(3_000_000));
      assert.deepEqual((await store.listTokens())[0]!.lastUsedAt, new Date(3_000_000));
      await store.touchToken('no-such-id', new Date(4_000_000)); // a token revoked meanwhile: no error
      assert.deepEqual((await store.listTokens())[0]!.lastUsedAt, new Date(3_000_000));
    });
  });

  it('keeps tokens across a reopen of the file', async () => {
    const path = join(root, 'persist', 'berth.db');
    await withStore(path, async (store) => {
      await store.createToken({ id: 'id-1', name: 'ci', hash: 'h1' });
      await store.touchToken('id-1', new Date(1_700_000_000_000));
    });
    await withStore(path, async (store) => {
      const token = await store.findTokenByHash('h1');
      assert.equal(token?.name, 'ci');
      assert.deepEqual(token?.lastUsedAt, new Date(1_700_000_000_000));
      assert.equal(await store.countTokens(), 1);
    });
  });

  it('fails with a StoreError when the store is not open', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    await assert.rejects(store.findTokenByHash('h'), (err: unknown) => err instanceof StoreError && /not open/.test(err.message));
    await assert.rejects(store.touchToken('id', new Date()), StoreError);
  });
});
