import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { buildConfig } from '../../src/config/load-config.js';
import { StoreError } from '../../src/errors.js';
import { MIGRATION_LOCK, PG_LATEST_SCHEMA_VERSION, pgMigrations } from '../../src/store/pg-migrations.js';
import { PostgresStore } from '../../src/store/postgres-store.js';
import { describePostgresUrl, isPostgresUrl } from '../../src/store/store-location.js';
import { createTestDatabase, databaseExists, pgSkip } from '../support/pg-test-db.js';
import { appSpec } from '../support/spec-fixture.js';
import { freePort } from '../support/free-port.js';
import { sleep, waitFor } from '../support/wait-for.js';

const skip = pgSkip();

describe('PostgreSQL store location and config', () => {
  it('tells a URL from a file and never shows the password', () => {
    assert.equal(isPostgresUrl('postgres://u:p@h/db'), true);
    assert.equal(isPostgresUrl('postgresql://h/db'), true);
    assert.equal(isPostgresUrl('./data/postgres.db'), false);
    assert.equal(describePostgresUrl('postgres://berth:s3cret@db.example:5433/berth?password=x'), 'postgres://berth@db.example:5433/berth');
  });

  it('keeps a postgres:// store as it is, with the admin token under ./data; BERTH_STORE wins over the file', async () => {
    const base = { listen: '127.0.0.1:0', admin: '127.0.0.1:0', policy: { images: [] } };
    const pgConfig = await buildConfig({ ...base, store: 'postgres://u:p@h:5432/berth' }, '/etc/berth');
    assert.deepEqual([pgConfig.store, pgConfig.stateDir], ['postgres://u:p@h:5432/berth', '/etc/berth/data']);
    const file = await buildConfig({ ...base, store: './x/berth.db' }, '/etc/berth');
    assert.deepEqual([file.store, file.stateDir], ['/etc/berth/x/berth.db', '/etc/berth/x']);
    const saved = process.env.BERTH_STORE;
    process.env.BERTH_STORE = 'postgresql://other/db';
    try {
      assert.equal((await buildConfig({ ...base, store: './x/berth.db' }, '/etc/berth')).store, 'postgresql://other/db');
    } finally {
      if (saved === undefined) delete process.env.BERTH_STORE;
      else process.env.BERTH_STORE = saved;
    }
  });

  it('a server that cannot be reached is one StoreError naming the host, without the password', async () => {
    const port = await freePort();
    const store = new PostgresStore({ url: `postgres://berth:hunter2@127.0.0.1:${port}/berth` });
    await assert.rejects(store.open(), (err: unknown) => {
      assert.ok(err instanceof StoreError, String(err));
      assert.equal(err.code, 'store_error');
      assert.match(err.message, new RegExp(`cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${port}: connection refused`));
      assert.doesNotMatch(err.message, /hunter2/);
      return true;
    });
  });
});

describe('PostgresStore on a real server', { skip }, () => {
  async function withDb(fn: (url: string) => Promise<void>): Promise<void> {
    const db = await createTestDatabase();
    try {
      await fn(db.url);
    } finally {
      await db.drop();
    }
    assert.equal(await databaseExists(db.name), false, 'the test database is dropped');
  }

  it('migrates a new database once, even with two gateways opening it at the same moment', () =>
    withDb(async (url) => {
      const stores = [new PostgresStore({ url }), new PostgresStore({ url })];
      try {
        await Promise.all(stores.map((s) => s.open()));
        const raw = new pg.Client({ connectionString: url });
        await raw.connect();
        const { rows } = await raw.query('SELECT version FROM berth_schema ORDER BY version');
        await raw.end();
        assert.deepEqual(rows.map((r: { version: number }) => r.version), pgMigrations.map((m) => m.version), 'each migration once');
        assert.equal(rows.at(-1)?.version, PG_LATEST_SCHEMA_VERSION);
        assert.equal(await stores[0]!.storeId(), await stores[1]!.storeId());
      } finally {
        for (const s of stores) await s.close();
      }
    }));

  it('refuses a database a newer berth has migrated', () =>
    withDb(async (url) => {
      const first = new PostgresStore({ url });
      await first.open();
      await first.connection.query("INSERT INTO berth_schema (version, description) VALUES (99, 'from the future')");
      await first.close();
      const second = new PostgresStore({ url });
      await assert.rejects(second.open(), (err: unknown) => err instanceof StoreError && err.message.includes(`newer berth (schema 99 > ${PG_LATEST_SCHEMA_VERSION})`));
    }));

  it('a gateway starting while another migrates waits for it, however long past the everyday query timeout', () =>
    withDb(async (url) => {
      // Another gateway (the one upgraded first) holding the migration lock through a long migration.
      const migrating = new pg.Client({ connectionString: url });
      await migrating.connect();
      const store = new PostgresStore({ url, queryTimeoutMs: 300 });
      let outcome: 'waiting' | 'opened' | Error = 'waiting';
      let opening: Promise<unknown> = Promise.resolve();
      try {
        await migrating.query('BEGIN');
        await migrating.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
        opening = store.open().then(
          () => (outcome = 'opened'),
          (err: Error) => (outcome = err),
        );
        await waitFor('the starting gateway to wait for the migration lock', async () => {
          const { rows } = await migrating.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
          return (rows[0]?.n ?? 0) > 0;
        });
        // Many times the store's query timeout: the wait for the lock must not be bound by it.
        await sleep(1500);
        assert.equal(outcome, 'waiting', `still waiting while the other gateway migrates (got ${String(outcome)})`);
        await migrating.query('COMMIT');
        await opening;
        assert.equal(outcome, 'opened');
        assert.equal(await store.storeId(), await store.storeId());
      } finally {
        await migrating.end();
        await opening;
        await store.close();
      }
    }));

  it('serialises concurrent applies from two gateways: no revision is lost', () =>
    withDb(async (url) => {
      const a = new PostgresStore({ url });
      const b = new PostgresStore({ url });
      await a.open();
      await b.open();
      try {
        await a.applyApps([appSpec('web')], 'api');
        const results = await Promise.all([a.applyApps([appSpec('web', { port: 1 })], 'api'), b.applyApps([appSpec('web', { port: 2 })], 'api')]);
        assert.deepEqual(results.map((r) => r[0]!.app.revision).sort(), [2, 3]);
        assert.equal((await b.getApp('web'))!.revision, 3);
      } finally {
        await a.close();
        await b.close();
      }
    }));
});
