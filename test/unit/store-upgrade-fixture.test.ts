import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { containerSpecHash } from '../../src/spec/hash.js';
import { LATEST_SCHEMA_VERSION } from '../../src/store/migrations.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';

/** A store an older berth wrote (see test/fixtures/store-9c06167/README.md). */
const FIXTURE = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/store-9c06167/berth.db');

/** What that berth showed before it was stopped: app, revision, source, spec hash, the berth.spec-hash label of its container. */
const APPS = [
  ['upgx-always', 1, 'config', 'caf516a6a2fd6855', '0889c68ee641d79f'],
  ['upgx-api', 1, 'api', '80e139622edc3fd9', 'e11aad26577a439d'],
  ['upgx-crash', 1, 'config', 'c831e666b18ef095', '5878ec8a7f258517'],
  ['upgx-idle', 1, 'config', '483c9b7aeeeb5c4a', 'd23b4560f9b0ee7f'],
  ['upgx-lazy', 1, 'config', '699882a2c901fab8', '29acd03a6f9282fe'],
] as const;
const HISTORY: Record<string, number[]> = { 'upgx-always': [200], 'upgx-api': [200], 'upgx-crash': [502], 'upgx-idle': [200, 200], 'upgx-lazy': [200, 200, 200] };
const USAGE_REQUESTS: Record<string, number> = { 'upgx-always': 1, 'upgx-api': 1, 'upgx-crash': 1, 'upgx-idle': 2, 'upgx-lazy': 3 };
const TOKEN_HASH = '4acd328b92d878f63d86b73c8e126576b5bae22bff8c2b8addfa7730c1f3b33f';

let root = '';
before(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'berth-upgrade-'));
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function copyOfFixture(name: string): Promise<string> {
  const path = join(root, name, 'berth.db');
  await fs.mkdir(dirname(path), { recursive: true });
  await fs.copyFile(FIXTURE, path);
  return path;
}

function schemaVersion(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return Number(db.pragma('user_version', { simple: true }));
  } finally {
    db.close();
  }
}

async function withStore(path: string, fn: (store: SqliteStore) => Promise<void>): Promise<void> {
  const store = new SqliteStore({ path });
  await store.open();
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

describe('a store written by berth 9c06167 (schema 4), opened by this berth', () => {
  it('keeps every app, token, history row and usage figure, and the specs hash to the labels of the running containers', async () => {
    const path = await copyOfFixture('keeps');
    assert.equal(schemaVersion(path), 4, 'the fixture is a schema-4 store');
    for (const round of [1, 2]) {
      await withStore(path, async (store) => {
        assert.equal(store.openedEmpty, false, `round ${round}: not an empty store`);
        const apps = await store.listApps();
        assert.deepEqual(
          apps.map((a) => [a.name, a.revision, a.source, a.specHash]),
          APPS.map(([name, revision, source, hash]) => [name, revision, source, hash]),
          `round ${round}: the apps as that berth left them`,
        );
        for (const [name, , , , label] of APPS) {
          const app = apps.find((a) => a.name === name)!;
          // A different hash would make the reconcile replace the container that berth left running.
          assert.equal(containerSpecHash(app.spec), label, `round ${round}: ${name}'s container is adopted, not recreated`);
        }
        assert.deepEqual((await store.listTokens()).map((t) => t.name), ['ci']);
        assert.equal((await store.findTokenByHash(TOKEN_HASH))?.name, 'ci', 'the token still signs in');
        for (const [app, statuses] of Object.entries(HISTORY)) {
          const page = await store.queryRequests({ app, limit: 100 });
          assert.deepEqual(page.items.map((r) => r.status), statuses, `round ${round}: history of ${app}`);
        }
        const usage = await store.queryUsage({});
        assert.deepEqual(Object.fromEntries(usage.map((u) => [u.app, u.requests])), USAGE_REQUESTS);
        assert.ok(usage.every((u) => u.day === '2026-12-01' && u.runningS > 0), 'the container-seconds are kept');
        assert.match(await store.storeId(), /^[0-9a-f-]{36}$/, 'the store gets an identity (schema 5)');
        assert.deepEqual([...(await store.appFailures())], [], 'schema 8 adds an empty app_failures table');
      });
    }
    assert.equal(schemaVersion(path), LATEST_SCHEMA_VERSION);
  });

  it('goes on from it: new history, usage and apps are added beside the old', async () => {
    const path = await copyOfFixture('goes-on');
    await withStore(path, async (store) => {
      await store.addUsage([{ app: 'upgx-lazy', day: '2026-12-01', runningS: 1, pausedS: 0, idleS: 0, requests: 1 }]);
      assert.equal((await store.queryUsage({ app: 'upgx-lazy' }))[0]?.requests, 4, 'added to the old figure');
      assert.equal(await store.setReplicas('upgx-lazy', 2), true);
      assert.equal(await store.deleteApp('upgx-crash'), true);
      assert.deepEqual((await store.listDeleted()).map((d) => d.name), ['upgx-crash']);
    });
  });
});
