// The PostgreSQL store when its server cannot take writes for reasons of its own: read-only
// (a hot standby after a failover, default_transaction_read_only), out of disk, out of
// connections. Each was a 500 store_error, logged as a fault of berth, where SQLite's same
// troubles say 503 store_unavailable and why. Now they are mapped alike.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { BerthError, httpStatusOf } from '../../src/errors.js';
import { pgSurroundings } from '../../src/store/pg-connect.js';
import { PostgresStore } from '../../src/store/postgres-store.js';
import { createTestDatabase, pgSkip, testPgUrl } from '../support/pg-test-db.js';
import { appSpec } from '../support/spec-fixture.js';

const skip = pgSkip();

/** A server error as pg gives it: a DatabaseError with its SQLSTATE. */
function serverError(code: string, message: string): pg.DatabaseError {
  const err = new pg.DatabaseError(message, 0, 'error');
  err.code = code;
  return err;
}

describe('the PostgreSQL server refusing writes for reasons of its own', () => {
  it('pgSurroundings: read-only, standby, disk full, too many connections, out of memory and I/O have a reason; a statement\'s own fault has none', () => {
    assert.match(pgSurroundings(serverError('25006', 'cannot execute INSERT in a read-only transaction'))!, /read-only/);
    assert.match(pgSurroundings(serverError('55000', 'cannot acquire lock mode ExclusiveLock on database objects while recovery is in progress'))!, /hot standby/);
    assert.match(pgSurroundings(serverError('53100', 'could not extend file: No space left on device'))!, /disk is full/);
    assert.match(pgSurroundings(serverError('53300', 'sorry, too many clients already'))!, /too many connections/);
    assert.match(pgSurroundings(serverError('53200', 'out of memory'))!, /out of memory/);
    assert.match(pgSurroundings(serverError('58030', 'could not read block'))!, /I\/O error/);
    assert.equal(pgSurroundings(serverError('55000', 'object not in prerequisite state')), undefined);
    assert.equal(pgSurroundings(serverError('23505', 'duplicate key value')), undefined);
    assert.equal(pgSurroundings(new Error('no code')), undefined);
  });

  it('a database made read-only under the gateway: an apply is 503 store_unavailable saying so, and works once it is writable again', { skip, timeout: 30_000 }, async () => {
    const db = await createTestDatabase();
    const admin = new pg.Client({ connectionString: testPgUrl() });
    const store = new PostgresStore({ url: db.url });
    try {
      await admin.connect();
      await store.open();
      await store.applyApps([appSpec('web')], 'api');
      // As after a failover to a standby: new sessions are read-only, the open ones are cut.
      await admin.query(`ALTER DATABASE ${db.name} SET default_transaction_read_only = on`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [db.name]);
      // The pool may first hand out a connection it has not yet seen cut (unavailable, as unreachable); then a read-only one.
      let last: unknown;
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        last = await store.applyApps([appSpec('new')], 'api').then(() => 'applied', (err: unknown) => err);
        if (last instanceof BerthError && /read-only/.test(last.message)) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(last instanceof BerthError, String(last));
      assert.equal(last.code, 'store_unavailable', last.message);
      assert.equal(httpStatusOf(last), 503);
      assert.match(last.message, /^store .*: cannot apply apps: the database is read-only .*running apps keep being served/);
      await admin.query(`ALTER DATABASE ${db.name} RESET default_transaction_read_only`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [db.name]);
      let applied: unknown;
      for (let i = 0; i < 50 && applied !== 'applied'; i++) {
        applied = await store.applyApps([appSpec('new')], 'api').then(() => 'applied', (err: unknown) => err);
        if (applied !== 'applied') await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(applied, 'applied', String(applied));
    } finally {
      await store.close().catch(() => undefined);
      await admin.end().catch(() => undefined);
      await db.drop();
    }
  });
});
