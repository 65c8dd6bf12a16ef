/**
 * Query parameters an operation does not take, or gives twice, are refused with
 * 400 naming them. They were ignored: `POST /v1/apps?dryrun=true` (one letter's
 * case off) applied the specs for real, `DELETE …?purgeVolume=true` kept the volume,
 * and `?limit=1&limit=500` took one of the two without a word.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { adminHostNames } from '../../src/api/admin-host.js';
import { AdminServer } from '../../src/api/admin-server.js';
import { integerParam, queryProblem } from '../../src/api/query-params.js';
import type { ApiContext, RouteDef } from '../../src/api/route-def.js';
import { BadRequestError } from '../../src/errors.js';
import { apiRoutes } from '../../src/api/routes/index.js';
import { TokenService } from '../../src/api/token-service.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import type { TokenStore } from '../../src/store/store.js';

const apply = apiRoutes.find((r) => r.operationId === 'applyApps')!;
const remove = apiRoutes.find((r) => r.operationId === 'deleteApp')!;
const health = apiRoutes.find((r) => r.operationId === 'health')!;

describe('queryProblem', () => {
  const cases: Array<[string, RouteDef, string, RegExp | undefined]> = [
    ['a declared parameter', apply, 'dryRun=true', undefined],
    ['none at all', health, '', undefined],
    ['a misspelt one, with the one meant', apply, 'dryrun=true', /^query parameter dryrun: POST \/v1\/apps takes no such parameter \(did you mean dryRun\?\)$/],
    ['a misspelt delete option', remove, 'purgeVolume=true', /^query parameter purgeVolume: DELETE \/v1\/apps\/\{name\} takes no such parameter \(did you mean purgeVolumes\?\)$/],
    ['an unrelated one, with the ones taken', apply, 'force=1', /^query parameter force: POST \/v1\/apps takes no such parameter \(it takes: dryRun\)$/],
    ['one on an operation that takes none', health, 'verbose=1', /^query parameter verbose: GET \/v1\/health takes no query parameters$/],
    ['a parameter given twice', apply, 'dryRun=false&dryRun=true', /^query parameter dryRun is given 2 times; give it once$/],
  ];
  for (const [what, route, query, expected] of cases) {
    it(what, () => {
      const problem = queryProblem(new URLSearchParams(query), route);
      if (expected === undefined) assert.equal(problem, undefined);
      else assert.match(problem ?? '(none)', expected);
    });
  }
});

const TOKEN = 'berth_test_query_token';
const tokens: TokenStore = {
  createToken: () => Promise.reject(new Error('not in this test')),
  listTokens: () => Promise.resolve([]),
  findTokenByHash: () => Promise.resolve(undefined),
  revokeToken: () => Promise.resolve(false),
  touchToken: () => Promise.resolve(),
  countTokens: () => Promise.resolve(1),
};

describe('the admin listener and query parameters', () => {
  let server: AdminServer;
  let base: string;
  let applied = 0;
  before(async () => {
    const logger = pino({ level: 'silent' });
    const applyRoute: RouteDef = { ...apply, handle: async () => ({ body: { applied: ++applied } }) };
    server = new AdminServer({ gateway: {} as Gateway, tokens: new TokenService(tokens, TOKEN, logger), routes: [applyRoute], logger, bindHost: '127.0.0.1', allowedHosts: () => adminHostNames('127.0.0.1') });
    base = `http://127.0.0.1:${(await server.listen('127.0.0.1', 0)).port}`;
  });
  after(() => server.close());

  const post = (query: string) => fetch(`${base}/v1/apps${query}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/yaml' }, body: 'x' });

  it('refuses a misspelt dryRun with 400 before the operation runs', async () => {
    const res = await post('?dryrun=true');
    assert.equal(res.status, 400);
    const problem = (await res.json()) as { code: string; detail: string };
    assert.equal(problem.code, 'bad_request');
    assert.match(problem.detail, /dryrun.*did you mean dryRun/);
    assert.equal(applied, 0, 'nothing was applied');
  });

  it('still runs the operation with the parameters it takes', async () => {
    const res = await post('?dryRun=true');
    assert.equal(res.status, 200);
    assert.equal(applied, 1);
  });
});

describe('numbers in query parameters are decimal digits', () => {
  // Number() read "1e2", "0x1F4", " 500" and "5.0e2" as numbers: a status filter of 100 or 500 no one wrote.
  const history = apiRoutes.find((r) => r.operationId === 'appHistory')!;
  const asked: unknown[] = [];
  const call = (query: string) =>
    history.handle({ params: { name: 'web' }, query: new URLSearchParams(query), gateway: { apps: { history: async (q: { status?: unknown }) => (asked.push(q.status), { items: [] }) } } } as unknown as ApiContext);

  it('GET /v1/apps/{name}/history takes a status of three digits or a class', async () => {
    for (const [query, status] of [['status=404', 404], ['status=5xx', '5xx'], ['', undefined]] as const) {
      asked.length = 0;
      await call(query);
      assert.deepEqual(asked, [status], query);
    }
    for (const bad of ['status=1e2', 'status=0x1F4', 'status=%20500', 'status=500.0', 'status=%2B404', 'status=600', 'status=99']) {
      asked.length = 0;
      await assert.rejects(call(bad), (err: unknown) => err instanceof BadRequestError && /^query parameter status: expected a status like 404/.test(err.message), bad);
      assert.deepEqual(asked, [], `${bad}: no query ran`);
    }
  });

  it('an integer parameter is digits, with a sign for a clear range message', () => {
    assert.equal(integerParam(new URLSearchParams('tail=10'), 'tail', 0, 100), 10);
    for (const bad of ['1e1', '0x0a', ' 10', '10.0', '+10', '0b1010', '-1']) {
      assert.throws(() => integerParam(new URLSearchParams({ tail: bad }), 'tail', 0, 100), (err: unknown) => err instanceof BadRequestError && /^query parameter tail: expected an integer from 0 to 100/.test(err.message), bad);
    }
  });
});
