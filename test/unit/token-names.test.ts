/**
 * Admin tokens whose names differ only in case (`ci`, `CI`) were two tokens:
 * they read as one in `berth token ls`, and `berth token revoke ci` left `CI`
 * working. And revoking the last token locked the API out until someone read
 * the data dir of a restarted gateway. Both are now refused with 409 (exit 4
 * from the CLI), saying what clashed or what to do first.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { adminHostNames } from '../../src/api/admin-host.js';
import { AdminServer } from '../../src/api/admin-server.js';
import { tokenRoutes } from '../../src/api/routes/tokens.js';
import { nameClash, TokenService } from '../../src/api/token-service.js';
import { ConflictError } from '../../src/errors.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { berth, cliEnv, errorLine } from '../support/berth-cli.js';

const logger = pino({ level: 'silent' });

it('nameClash finds a name equal but for case', () => {
  const tokens = [{ name: 'ci' }, { name: 'alice' }];
  assert.equal(nameClash(tokens, 'CI'), 'ci');
  assert.equal(nameClash(tokens, 'ci'), 'ci');
  assert.equal(nameClash(tokens, 'ci2'), undefined);
});

describe('the SQLite store with keepOne', () => {
  it('does not revoke the only token left, and revokes any other', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    await store.open();
    try {
      await store.createToken({ id: 'id-a', name: 'a', hash: 'a'.repeat(64) });
      await store.createToken({ id: 'id-b', name: 'b', hash: 'b'.repeat(64) });
      assert.equal(await store.revokeToken('nope', { keepOne: true }), false);
      assert.equal(await store.revokeToken('a', { keepOne: true }), true);
      assert.equal(await store.revokeToken('id-b', { keepOne: true }), 'last');
      assert.equal(await store.countTokens(), 1, 'the last token is kept');
      assert.equal(await store.revokeToken('b'), true, 'without keepOne it goes');
    } finally {
      await store.close();
    }
  });
});

describe('token names and the last token, through the API and the CLI', () => {
  let store: SqliteStore;
  let tokens: TokenService;
  let server: AdminServer;
  let url = '';
  let admin = '';
  before(async () => {
    store = new SqliteStore({ path: ':memory:' });
    await store.open();
    tokens = new TokenService(store, undefined, logger);
    admin = (await tokens.create('admin')).token;
    server = new AdminServer({ gateway: {} as Gateway, tokens, routes: tokenRoutes, logger, bindHost: '127.0.0.1', allowedHosts: () => adminHostNames('127.0.0.1') });
    url = `http://127.0.0.1:${(await server.listen('127.0.0.1', 0)).port}`;
  });
  after(async () => {
    await server.close();
    await store.close();
  });

  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${admin}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });

  it('refuses a name that equals an existing one but for case, naming the clash', async () => {
    assert.equal((await call('POST', '/v1/tokens', { name: 'ci' })).status, 201);
    const res = await call('POST', '/v1/tokens', { name: 'CI' });
    assert.equal(res.status, 409);
    const problem = (await res.json()) as { code: string; detail: string };
    assert.equal(problem.code, 'conflict');
    assert.match(problem.detail, /"ci" already exists/);
    assert.deepEqual((await store.listTokens()).map((t) => t.name).sort(), ['admin', 'ci']);
    await assert.rejects(tokens.create('Admin'), ConflictError);
  });

  // A token revoked by name was answered {"id": "<its name>"}: the id field held whatever the path said.
  it('a token revoked by name or by id is answered with its id and its name', async () => {
    for (const by of ['name', 'id'] as const) {
      const created = (await (await call('POST', '/v1/tokens', { name: `gone-${by}` })).json()) as { id: string; name: string };
      const res = await call('DELETE', `/v1/tokens/${by === 'name' ? created.name : created.id}`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { id: created.id, name: created.name, revoked: true }, by);
    }
  });

  it('refuses to revoke the last token, saying to create another first; the CLI prints one line and exits 4', async () => {
    assert.equal((await call('DELETE', '/v1/tokens/ci')).status, 200);
    const res = await call('DELETE', '/v1/tokens/admin');
    assert.equal(res.status, 409);
    assert.match(((await res.json()) as { detail: string }).detail, /last token.*create another first/);

    const cli = await berth(['token', 'revoke', 'admin'], cliEnv({ BERTH_URL: url, BERTH_TOKEN: admin, XDG_CONFIG_HOME: '/nonexistent' }));
    assert.equal(cli.code, 4, cli.stderr);
    assert.equal(cli.stderr.trim().split('\n').length, 1, cli.stderr);
    assert.match(errorLine(cli), /last token/);
    assert.equal((await call('GET', '/v1/tokens')).status, 200, 'the API is still open');
  });

  it('with BERTH_ADMIN_TOKEN set the API stays open, so the last stored token may go', async () => {
    const withEnv = new TokenService(store, 'berth_env_secret', logger);
    assert.equal(await store.countTokens(), 1);
    await withEnv.revoke('admin');
    assert.equal(await store.countTokens(), 0);
  });
});
