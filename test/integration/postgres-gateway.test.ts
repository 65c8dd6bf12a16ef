// A gateway on a PostgreSQL store, on the real engine: an app applied through the API
// is served, is still there after the gateway restarts, and its history and usage are
// rows in PostgreSQL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { appPath, testAppYaml } from '../support/app-spec.js';
import { cleanupByLabel, testRun } from '../support/docker-cleanup.js';
import { GatewayHarness } from '../support/gateway-harness.js';
import { timedGet } from '../support/http-requests.js';
import { createTestDatabase, databaseExists, pgSkip, type TestDatabase } from '../support/pg-test-db.js';

const skip = pgSkip();
const run = testRun();
const app = `pg${run.id}-web`;

describe('a gateway on a PostgreSQL store', { skip, timeout: 180_000 }, () => {
  let db: TestDatabase | undefined;
  let h: GatewayHarness | undefined;

  const query = async <R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> => {
    const client = new pg.Client({ connectionString: db!.url });
    await client.connect();
    try {
      return (await client.query<R>(sql, params)).rows;
    } finally {
      await client.end();
    }
  };

  before(async () => {
    db = await createTestDatabase();
    h = await GatewayHarness.create(run.labels, { store: db.url });
    await h.writeConfig();
    await h.start();
  });

  after(async () => {
    await h?.dispose();
    await cleanupByLabel(run.label);
    if (db) {
      await db.drop();
      assert.equal(await databaseExists(db.name), false);
    }
  });

  test('apply through the API, served, kept across a restart; history and usage land in PostgreSQL', async () => {
    const applied = await h!.api('POST', '/v1/apps', { body: testAppYaml(app), contentType: 'application/yaml' });
    assert.ok(applied.status === 200 || applied.status === 201, applied.text);
    const stored = await query<{ name: string; revision: number; source: string }>('SELECT name, revision, source FROM apps WHERE name = $1', [app]);
    assert.deepEqual(stored, [{ name: app, revision: 1, source: 'api' }]);

    for (let i = 0; i < 3; i++) {
      const reply = await timedGet(h!.port, appPath(app, '/ping'), { timeoutMs: 30_000 });
      assert.equal(reply.status, 200, reply.body);
    }
    // A clean stop writes what the history buffer and the accountant still hold.
    await h!.stop();
    const history = await query<{ n: number; ok: number }>("SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 200)::int AS ok FROM requests WHERE app = $1", [app]);
    assert.deepEqual(history, [{ n: 3, ok: 3 }]);
    const usage = await query<{ requests: number; running_s: number }>('SELECT requests::int AS requests, running_s FROM usage WHERE app = $1', [app]);
    assert.equal(usage.reduce((sum, r) => sum + r.requests, 0), 3);
    assert.ok(usage.reduce((sum, r) => sum + r.running_s, 0) > 0, JSON.stringify(usage));

    await h!.start();
    assert.ok(h!.gateway!.statuses().some((s) => s.name === app), 'the app is still declared after the restart');
    const reply = await timedGet(h!.port, appPath(app, '/ping'), { timeoutMs: 30_000 });
    assert.equal(reply.status, 200, reply.body);
    // The API reads the history back from PostgreSQL: the three requests served before the restart.
    const page = await h!.api('GET', `/v1/apps/${app}/history?limit=10`);
    assert.equal(page.status, 200, page.text);
    assert.ok((page.json as { items: unknown[] }).items.length >= 3, page.text);
  });
});
