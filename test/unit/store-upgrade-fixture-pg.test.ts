import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { containerSpecHash } from '../../src/spec/hash.js';
import { PG_LATEST_SCHEMA_VERSION } from '../../src/store/pg-migrations.js';
import { PostgresStore } from '../../src/store/postgres-store.js';
import { createTestDatabase, pgSkip } from '../support/pg-test-db.js';

/** A database an older berth wrote (see test/fixtures/pg-store-c5d1687/README.md). */
const DUMP = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/pg-store-c5d1687/dump.sql');

/** What that berth showed before it was stopped: app, revision, source, spec hash, replicas, the berth.spec-hash label of its container. */
const APPS = [
  ['upgx-always', 1, 'config', '88a47f0fd52fb898', undefined, '0889c68ee641d79f'],
  ['upgx-api', 1, 'api', '80e139622edc3fd9', undefined, 'e11aad26577a439d'],
  ['upgx-crash', 1, 'config', '9002f4de36c21296', undefined, '5878ec8a7f258517'],
  ['upgx-idle', 1, 'config', '04cc362efb954b75', undefined, 'd23b4560f9b0ee7f'],
  ['upgx-lazy', 1, 'config', 'eb0d757d24e56228', 1, '29acd03a6f9282fe'],
] as const;
const HISTORY: Record<string, number[]> = { 'upgx-always': [200], 'upgx-api': [200], 'upgx-crash': [502], 'upgx-idle': [200, 200], 'upgx-lazy': [200, 200, 200] };
const USAGE_REQUESTS: Record<string, number> = { 'upgx-always': 1, 'upgx-api': 1, 'upgx-crash': 1, 'upgx-idle': 2, 'upgx-lazy': 3 };
const TOKEN_HASH = '1e6ff17f6b96c7d222d52b47a986e456d8577892e17b06613fbfcb5c3f3177f6';
const STORE_ID = 'f1964527-d738-4c29-98e2-2af62d8f89ee';

async function withStore(url: string, fn: (store: PostgresStore) => Promise<void>): Promise<void> {
  const store = new PostgresStore({ url });
  await store.open();
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

describe('a PostgreSQL store written by berth c5d1687 (schema 3), opened by this berth', { skip: pgSkip() }, () => {
  it('keeps every app, token, history row, usage figure and the store identity; new history goes on after the old', async () => {
    const db = await createTestDatabase();
    try {
      const loader = new pg.Client({ connectionString: db.url });
      await loader.connect();
      try {
        await loader.query(await fs.readFile(DUMP, 'utf8'));
      } finally {
        await loader.end();
      }
      for (const round of [1, 2]) {
        await withStore(db.url, async (store) => {
          const apps = await store.listApps();
          assert.deepEqual(
            apps.map((a) => [a.name, a.revision, a.source, a.specHash, a.replicas]),
            APPS.map(([name, revision, source, hash, replicas]) => [name, revision, source, hash, replicas]),
            `round ${round}: the apps as that berth left them, with the scale set through its API`,
          );
          for (const [name, , , , , label] of APPS) {
            // A different hash would make the reconcile replace the container that berth left running.
            assert.equal(containerSpecHash(apps.find((a) => a.name === name)!.spec), label, `round ${round}: ${name}'s container is adopted, not recreated`);
          }
          assert.equal((await store.findTokenByHash(TOKEN_HASH))?.name, 'ci', 'the token still signs in');
          assert.equal(await store.storeId(), STORE_ID, 'the containers keep matching their berth.store label');
          const usage = await store.queryUsage({});
          assert.deepEqual(Object.fromEntries(usage.map((u) => [u.app, u.requests])), USAGE_REQUESTS);
          const expected = round === 1 ? HISTORY : { ...HISTORY, 'upgx-lazy': [404, 200, 200, 200] };
          for (const [app, statuses] of Object.entries(expected)) {
            assert.deepEqual((await store.queryRequests({ app, limit: 100 })).items.map((r) => r.status), statuses, `round ${round}: history of ${app}`);
          }
          assert.deepEqual([...(await store.lastRequests())], [], 'schema 4 adds an empty last_requests table');
          assert.deepEqual([...(await store.appFailures())], [], 'schema 5 adds an empty app_failures table');
          // The history's id sequence goes on from the old rows (no duplicate key).
          if (round === 1) {
            await store.appendRequests([{ timeMs: 1796158200000, app: 'upgx-lazy', method: 'GET', path: '/s/upgx-lazy/new', status: 404, durationMs: 1, bytesIn: 0, bytesOut: 9, client: '127.0.0.1', waited: false }]);
          }
        });
      }
      const check = new pg.Client({ connectionString: db.url });
      await check.connect();
      try {
        const { rows } = await check.query<{ v: number }>('SELECT max(version) AS v FROM berth_schema');
        assert.equal(rows[0]?.v, PG_LATEST_SCHEMA_VERSION);
      } finally {
        await check.end();
      }
    } finally {
      await db.drop();
    }
  });
});
