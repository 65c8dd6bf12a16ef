import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { AppSpec } from '../../src/spec/types.js';
import { BERTH_APPLICATION_ID, LATEST_SCHEMA_VERSION, migrations } from '../../src/store/migrations.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';

const SPEC: AppSpec = {
  name: 'old-app',
  image: 'example/old-app:latest',
  port: 8080,
  routes: [{ path: '/session/old-app/', stripPrefix: false }],
  env: { KEEP: 'me' },
  scale: { min: 0, max: 1, replicas: 1 },
  startTimeoutMs: 60_000,
  readiness: {},
  resources: {},
  waiting: 'auto',
  idleAction: 'stop',
  balance: 'least-connections',
  strategy: { type: 'blue-green', batchSize: 1 },
  dependsOn: [],
  security: { privileged: false, capAdd: [], hostNetwork: false, hostPid: false },
  mounts: [],
  labels: {},
};

let root = '';
let counter = 0;
before(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'berth-migrate-'));
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/**
 * A store file exactly as an older berth left it: the migrations up to `version` (they
 * are never edited once released, so running them is that berth's code path), WAL on,
 * and one app written through SQL the way that berth wrote it.
 */
async function storeAtVersion(version: number): Promise<string> {
  counter += 1;
  const path = join(root, `case-${counter}`, 'berth.db');
  await fs.mkdir(join(path, '..'), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  for (const m of migrations.filter((m) => m.version <= version)) {
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
  db.prepare(
    `INSERT INTO apps (name, spec, revision, spec_hash, source, created_at, updated_at)
     VALUES (?, ?, 3, 'abcdef0123456789', 'api', 1700000000000, 1700000001000)`,
  ).run(SPEC.name, JSON.stringify(SPEC));
  if (version >= 2) {
    db.prepare(`INSERT INTO tokens (id, name, hash, created_at) VALUES ('t1', 'ci', 'hash-ci', 1700000002000)`).run();
  }
  db.close();
  return path;
}

function schemaOf(path: string) {
  const db = new Database(path, { readonly: true });
  try {
    return {
      version: Number(db.pragma('user_version', { simple: true })),
      appId: Number(db.pragma('application_id', { simple: true })),
      objects: db
        .prepare<[], { name: string }>(`SELECT name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name`)
        .all()
        .map((r) => r.name),
    };
  } finally {
    db.close();
  }
}

describe('store migrations', () => {
  it('lists versions 1 to 9 in order, each one higher than the last', () => {
    assert.deepEqual(migrations.map((m) => m.version), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(LATEST_SCHEMA_VERSION, 9);
  });

  it('brings a version-1 store to the latest schema and keeps its apps', async () => {
    const path = await storeAtVersion(1);
    assert.equal(schemaOf(path).version, 1);
    assert.ok(!schemaOf(path).objects.includes('tokens'));

    const store = new SqliteStore({ path });
    await store.open();
    try {
      const app = await store.getApp('old-app');
      assert.ok(app, 'the app written by the old berth is still there');
      assert.deepEqual(app.spec, SPEC);
      assert.deepEqual([app.revision, app.source, app.specHash], [3, 'api', 'abcdef0123456789']);
      assert.equal(app.createdAt.getTime(), 1700000000000);
      // The new tables work.
      assert.equal(await store.countTokens(), 0);
      await store.createToken({ id: 'x', name: 'new', hash: 'h' });
      await store.appendRequests([
        { timeMs: 5, app: 'old-app', method: 'GET', path: '/', status: 200, durationMs: 1, bytesIn: 0, bytesOut: 2, client: '::1', waited: false },
      ]);
      assert.equal((await store.queryRequests({ app: 'old-app' })).items.length, 1);
    } finally {
      await store.close();
    }
    const after = schemaOf(path);
    assert.equal(after.version, LATEST_SCHEMA_VERSION);
    assert.equal(after.appId, BERTH_APPLICATION_ID);
    for (const name of ['apps', 'meta', 'tokens', 'requests', 'requests_app_time']) {
      assert.ok(after.objects.includes(name), `${name} exists after migrating: ${after.objects.join(', ')}`);
    }
    // Made by migration 3, dropped by 9: only the age prune used it, and every insert paid for it.
    assert.ok(!after.objects.includes('requests_time'), `requests_time is gone: ${after.objects.join(', ')}`);
  });

  it('drops requests_time from a version-8 store, whose history stays and prunes by age as before', async () => {
    const path = await storeAtVersion(8);
    assert.ok(schemaOf(path).objects.includes('requests_time'));
    const raw = new Database(path);
    const insert = raw.prepare('INSERT INTO requests (time, app) VALUES (?, ?)');
    for (const [time, app] of [[1000, 'old-app'], [3000, 'old-app'], [2000, 'other']] as const) insert.run(time, app);
    raw.close();
    const store = new SqliteStore({ path, historyThread: false });
    await store.open();
    try {
      assert.equal(await store.pruneRequests({ maxRecords: Number.POSITIVE_INFINITY, maxAgeMs: 1000 }, new Date(3500)), 2);
      assert.deepEqual((await store.queryRequests({ app: 'old-app' })).items.map((r) => r.time.getTime()), [3000]);
    } finally {
      await store.close();
    }
    const after = schemaOf(path);
    assert.equal(after.version, 9);
    assert.ok(!after.objects.includes('requests_time'));
    assert.ok(after.objects.includes('requests_app_time'));
  });

  it('brings a version-2 store to the latest schema and keeps its tokens', async () => {
    const path = await storeAtVersion(2);
    const store = new SqliteStore({ path });
    await store.open();
    try {
      const token = await store.findTokenByHash('hash-ci');
      assert.deepEqual(token, { id: 't1', name: 'ci', hash: 'hash-ci', createdAt: new Date(1700000002000) });
      assert.ok(await store.getApp('old-app'));
      assert.deepEqual((await store.queryRequests({ app: 'old-app' })).items, []);
    } finally {
      await store.close();
    }
    assert.equal(schemaOf(path).version, LATEST_SCHEMA_VERSION);
  });

  it('brings a version-3 store to version 4: an empty usage table that adds up', async () => {
    const path = await storeAtVersion(3);
    assert.ok(!schemaOf(path).objects.includes('usage'));
    const store = new SqliteStore({ path });
    await store.open();
    try {
      assert.ok(await store.getApp('old-app'));
      assert.deepEqual(await store.queryUsage({}), []);
      const row = { app: 'old-app', day: '2026-01-02', runningS: 1.5, pausedS: 0, idleS: 10, requests: 2 };
      await store.addUsage([row]);
      await store.addUsage([row]);
      assert.deepEqual(await store.queryUsage({ app: 'old-app' }), [{ ...row, runningS: 3, idleS: 20, requests: 4 }]);
    } finally {
      await store.close();
    }
    assert.equal(schemaOf(path).version, LATEST_SCHEMA_VERSION);
  });

  it('brings a version-4 store to the latest: an identity, tombstones, scale overrides (5) and certificates (6)', async () => {
    const path = await storeAtVersion(4);
    const store = new SqliteStore({ path });
    await store.open();
    try {
      assert.equal(store.openedEmpty, false, 'a store with a schema is not an empty one');
      const app = await store.getApp('old-app');
      assert.ok(app);
      assert.equal(app.replicas, undefined);
      const id = await store.storeId();
      assert.match(id, /^[0-9a-f-]{36}$/);
      assert.equal(await store.storeId(), id, 'the identity is made once');
      assert.equal(await store.setReplicas('old-app', 3), true);
      assert.equal((await store.getApp('old-app'))?.replicas, 3);
      assert.equal(await store.deleteApp('old-app'), true);
      assert.deepEqual((await store.listDeleted()).map((d) => d.name), ['old-app']);
      assert.deepEqual(await store.listCertificates(), [], 'version 6 adds an empty certificates table');
    } finally {
      await store.close();
    }
    assert.equal(schemaOf(path).version, LATEST_SCHEMA_VERSION);
    assert.ok(schemaOf(path).objects.includes('certificates'));
  });

  it('brings a version-7 store to version 8: an empty table of kept failures, the apps as they were', async () => {
    const path = await storeAtVersion(7);
    assert.ok(!schemaOf(path).objects.includes('app_failures'));
    const store = new SqliteStore({ path });
    await store.open();
    try {
      assert.ok(await store.getApp('old-app'));
      assert.deepEqual(await store.appFailures(), new Map());
      const failure = { lastError: 'the container exited with code 3', publicError: 'the container exited with code 3', failedAt: new Date(1700000003000) };
      await store.saveAppFailure('old-app', failure);
      assert.deepEqual(await store.appFailures(), new Map([['old-app', failure]]));
    } finally {
      await store.close();
    }
    assert.equal(schemaOf(path).version, LATEST_SCHEMA_VERSION);
  });

  it('creates tables that enforce their types (STRICT)', async () => {
    const path = await storeAtVersion(1);
    const store = new SqliteStore({ path });
    await store.open();
    await store.close();
    const db = new Database(path);
    try {
      assert.throws(
        () => db.prepare(`INSERT INTO requests (time, app) VALUES ('yesterday', 'a')`).run(),
        /cannot store TEXT value in INTEGER column requests.time/,
      );
      assert.throws(() => db.prepare(`INSERT INTO tokens (id, name, hash) VALUES ('i', 'n', 'h')`).run(), /NOT NULL/);
      assert.throws(() => db.prepare(`INSERT INTO usage (app, day, requests) VALUES ('a', '2026-01-02', 'many')`).run(), /cannot store TEXT value in INTEGER column usage.requests/);
      assert.throws(() => db.prepare(`INSERT INTO usage (app, day) VALUES ('a', 'yesterday')`).run(), /CHECK constraint failed/);
    } finally {
      db.close();
    }
  });
});
