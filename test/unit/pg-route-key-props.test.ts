// The PostgreSQL store refuses an apply claiming a route another gateway stored meanwhile
// by computing each stored route's key in SQL (pg-set-checks.ts STORED_ROUTE_KEY); the
// gateway computes the same key in TypeScript (appRouteKeys, routeKey). Were they to differ
// for any route the parser accepts (host case, a `*.` wildcard, punycode, a path with "%",
// "'", "_", percent-encoded non-ASCII, no path, no host), a clash would be stored unseen or a free route refused.
// Held equal here over many generated specs, parsed as the API parses them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import pg from 'pg';
import { parseSpecObject } from '../../src/spec/index.js';
import { appRouteKeys } from '../../src/spec/route-collisions.js';
import type { AppSpec } from '../../src/spec/types.js';
import { STORED_ROUTE_KEY } from '../../src/store/pg-set-checks.js';
import { pgSkip, testPgUrl } from '../support/pg-test-db.js';

const skip = pgSkip();

const label = fc.stringMatching(/^[A-Za-z0-9]([A-Za-z0-9-]{0,8}[A-Za-z0-9])?$/);
const host = fc.tuple(fc.boolean(), fc.array(label, { minLength: 1, maxLength: 4 })).map(([wild, labels]) => (wild ? '*.' : '') + labels.join('.'));
// Non-ASCII only percent-encoded (upper case): the parser refuses a path no request can have (fields.ts).
const segmentChar = fc.constantFrom('a', 'Z', '0', '_', "'", '-', '.', '~', '*', '%2F', '%25', '%20', '%C3%A9', '%E6%97%A5', '!', '$', '(', '+', ',', ';', '=', ':', '@');
const segment = fc.array(segmentChar, { minLength: 1, maxLength: 6 }).map((chars) => chars.join(''));
const path = fc.tuple(fc.array(segment, { minLength: 0, maxLength: 3 }), fc.boolean()).map(([segs, slash]) => '/' + segs.join('/') + (slash && segs.length > 0 ? '/' : ''));
const route = fc.record({ host: fc.option(host, { nil: undefined }), path: fc.option(path, { nil: undefined }) });
const name = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);

/** The spec as the API would store it, or undefined when the parser refuses it (an invalid path or host). */
function parsed(appName: string, routes: Array<{ host?: string | undefined; path?: string | undefined }>): AppSpec | undefined {
  const clean = routes.map((r) => ({ ...(r.host !== undefined ? { host: r.host } : {}), ...(r.path !== undefined ? { path: r.path } : {}) }));
  try {
    return parseSpecObject({ apiVersion: 'berth/v1', name: appName, image: 'example/app:1', port: 8080, routes: clean });
  } catch {
    return undefined;
  }
}

describe('the SQL route key of a stored spec equals appRouteKeys', { skip, timeout: 30_000 }, () => {
  let client: pg.Client;

  before(async () => {
    client = new pg.Client({ connectionString: testPgUrl() });
    await client.connect();
  });

  after(async () => {
    await client?.end();
  });

  /** The keys PostgreSQL computes for a spec stored as putOne stores it (JSON.stringify), in route order. */
  async function sqlKeys(spec: AppSpec): Promise<string[]> {
    const { rows } = await client.query<{ key: string }>(
      `SELECT ${STORED_ROUTE_KEY} AS key
       FROM (SELECT $1::text AS name, $2::text AS spec) a
       CROSS JOIN LATERAL jsonb_array_elements(a.spec::jsonb -> 'routes') WITH ORDINALITY AS r(value, i)
       ORDER BY r.i`,
      [spec.name, JSON.stringify(spec)],
    );
    return rows.map((r) => r.key);
  }

  test('over many generated routes', async () => {
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(name, fc.array(route, { minLength: 1, maxLength: 4 }), async (appName, routes) => {
        const spec = parsed(appName, routes);
        if (!spec) return;
        checked++;
        assert.deepEqual(await sqlKeys(spec), appRouteKeys(spec));
      }),
      { numRuns: 400, seed: 20261202 },
    );
    assert.ok(checked > 200, `only ${checked} generated specs parsed: the generator tests too little`);
  });

  test('the forms named one by one', async () => {
    const cases: Array<Array<{ host?: string; path?: string }>> = [
      [{ host: 'Shop.Example.COM' }],
      [{ host: '*.Apps.Example.com', path: '/X/' }],
      [{ host: 'xn--bcher-kva.example' }],
      [{ path: '/a%20b' }, { path: "/o'neil/" }, { path: '/a_b%25' }],
      [{ path: '/caf%C3%A9' }, { host: 'a.example', path: '/x' }],
    ];
    for (const routes of cases) {
      const spec = parsed('app-1', routes);
      assert.ok(spec, `parses: ${JSON.stringify(routes)}`);
      assert.deepEqual(await sqlKeys(spec), appRouteKeys(spec), JSON.stringify(routes));
    }
  });
});
