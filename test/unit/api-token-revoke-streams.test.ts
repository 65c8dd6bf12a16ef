/**
 * Revoking a token ends what it opened: an event stream or a log follow stayed
 * open after its token was revoked, so a leaked token, once revoked, kept reading
 * every app's events (or a container's output) for as long as it liked.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { adminHostNames } from '../../src/api/admin-host.js';
import { AdminServer } from '../../src/api/admin-server.js';
import type { RouteDef } from '../../src/api/route-def.js';
import { TokenService } from '../../src/api/token-service.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import type { StoredToken, TokenStore } from '../../src/store/store.js';

/** An in-memory token store. */
function memoryTokens(): TokenStore {
  const tokens: Array<StoredToken & { hash: string }> = [];
  return {
    createToken: async (t) => {
      const stored = { ...t, createdAt: new Date() } as StoredToken & { hash: string };
      tokens.push(stored);
      return stored;
    },
    listTokens: async () => tokens,
    findTokenByHash: async (hash) => tokens.find((t) => t.hash === hash),
    revokeToken: async (idOrName, options) => {
      const i = tokens.findIndex((t) => t.id === idOrName || t.name === idOrName);
      if (i < 0) return false;
      if (options?.keepOne && tokens.length === 1) return 'last';
      tokens.splice(i, 1);
      return true;
    },
    touchToken: async () => undefined,
    countTokens: async () => tokens.length,
  };
}

const stream: RouteDef = {
  method: 'GET',
  path: '/v1/events',
  operationId: 'events',
  summary: '',
  tag: 'test',
  responses: { 200: 'a stream' },
  async handle(ctx) {
    ctx.res.writeHead(200, { 'content-type': 'text/event-stream' });
    ctx.res.write(': open\n\n');
  },
};

/** Opens the stream with `token`; resolves when it opened, with a promise of its end. */
function open(port: number, token: string): Promise<{ ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/v1/events', headers: { authorization: `Bearer ${token}` } }, (res) => {
      assert.equal(res.statusCode, 200);
      const ended = new Promise<void>((done) => {
        res.on('close', () => done());
        res.on('error', () => done());
      });
      res.once('data', () => resolve({ ended }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('a revoked token', () => {
  let server: AdminServer;
  let tokens: TokenService;
  let port: number;
  before(async () => {
    const logger = pino({ level: 'silent' });
    tokens = new TokenService(memoryTokens(), 'berth_env_token', logger);
    server = new AdminServer({ gateway: {} as Gateway, tokens, routes: [stream], logger, bindHost: '127.0.0.1', allowedHosts: () => adminHostNames('127.0.0.1') });
    port = (await server.listen('127.0.0.1', 0)).port;
  });
  after(() => server.close());

  it('ends the streams it opened, and only those', async () => {
    const leaked = await tokens.create('leaked');
    const other = await tokens.create('other');
    const mine = await open(port, leaked.token);
    const theirs = await open(port, other.token);
    let theirsEnded = false;
    void theirs.ended.then(() => (theirsEnded = true));
    await tokens.revoke('leaked');
    const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('still open'), 3_000).unref());
    assert.equal(await Promise.race([mine.ended.then(() => 'ended'), timeout]), 'ended', "the revoked token's stream ends");
    assert.equal(theirsEnded, false, "another token's stream stays open");
    await tokens.revoke(other.id);
    await theirs.ended;
  });
});

describe('a token revoked through another gateway on the same store', () => {
  it("ends its streams here at the next recheck, and leaves the others' open", async () => {
    const logger = pino({ level: 'silent' });
    const shared = memoryTokens();
    const here = new TokenService(shared, undefined, logger);
    const elsewhere = new TokenService(shared, undefined, logger);
    const server = new AdminServer({ gateway: {} as Gateway, tokens: here, routes: [stream], logger, bindHost: '127.0.0.1', allowedHosts: () => adminHostNames('127.0.0.1'), tokenRecheckMs: 50 });
    try {
      const port = (await server.listen('127.0.0.1', 0)).port;
      const leaked = await elsewhere.create('leaked');
      const other = await elsewhere.create('other');
      const mine = await open(port, leaked.token);
      const theirs = await open(port, other.token);
      let theirsEnded = false;
      void theirs.ended.then(() => (theirsEnded = true));
      await elsewhere.revoke('leaked');
      const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('still open'), 3_000).unref());
      assert.equal(await Promise.race([mine.ended.then(() => 'ended'), timeout]), 'ended', "the revoked token's stream ends on this gateway too");
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(theirsEnded, false, "a token still in the store keeps its stream across rechecks");
    } finally {
      await server.close();
    }
  });
});

describe('a token revoking itself', () => {
  it('gets its answer', async () => {
    const logger = pino({ level: 'silent' });
    const tokens = new TokenService(memoryTokens(), undefined, logger);
    const revokeRoute: RouteDef = { method: 'DELETE', path: '/v1/tokens/{id}', operationId: 'revokeToken', summary: '', tag: 'test', responses: { 200: 'ok' }, handle: async (ctx) => (await ctx.tokens.revoke(ctx.params.id!), { body: { revoked: true } }) };
    const server = new AdminServer({ gateway: {} as Gateway, tokens, routes: [revokeRoute], logger, bindHost: '127.0.0.1', allowedHosts: () => adminHostNames('127.0.0.1') });
    try {
      const port = (await server.listen('127.0.0.1', 0)).port;
      const self = await tokens.create('self');
      await tokens.create('spare'); // the last token cannot be revoked
      const res = await fetch(`http://127.0.0.1:${port}/v1/tokens/self`, { method: 'DELETE', headers: { authorization: `Bearer ${self.token}` } });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { revoked: true });
    } finally {
      await server.close();
    }
  });
});
