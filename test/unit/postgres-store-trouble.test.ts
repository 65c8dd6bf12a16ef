// The PostgreSQL store when the link to its server misbehaves, through a TCP relay of
// the test's own (test/support/pg-relay.ts): packets that vanish without a reset, a
// gateway cut off in the middle of a transaction. Nothing may wait for ever, one
// gateway's lost connection must not hold the others' applies, and a connection that
// went silent is never handed out again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { pino } from 'pino';
import { AppLeases } from '../../src/cluster/gateways/app-lease.js';
import { BerthError } from '../../src/errors.js';
import { PostgresStore, type PostgresStoreOptions } from '../../src/store/postgres-store.js';
import { createTestDatabase, pgSkip } from '../support/pg-test-db.js';
import { PgRelay } from '../support/pg-relay.js';
import { appSpec } from '../support/spec-fixture.js';

const skip = pgSkip();

/** `work`, or a rejection naming `what` once `ms` have passed: the test fails rather than hangs. */
async function within<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: still waiting after ${ms} ms`)), ms)));
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

const isUnavailable = (err: unknown) => err instanceof BerthError && err.code === 'store_unavailable';

test('a black-holed store: an apply is refused with store_unavailable in bounded time, and applies work once the link is back', { skip, timeout: 30_000 }, async () => {
  const db = await createTestDatabase();
  const relay = await new PgRelay(db.url).listen();
  const options: PostgresStoreOptions = { url: relay.url, queryTimeoutMs: 1_000 };
  const store = new PostgresStore(options);
  try {
    await store.open();
    await store.applyApps([appSpec('web')], 'api');
    relay.blackHole = true;
    const began = performance.now();
    await assert.rejects(within('an apply through the black hole', 15_000, store.applyApps([appSpec('web', { port: 1 })], 'api')), isUnavailable);
    assert.ok(performance.now() - began < 10_000, 'refused within its query timeout, not the kernel’s');
    relay.blackHole = false;
    // The connection that went silent is not handed out again: the next apply gets a new one.
    const [result] = await within('an apply once the link is back', 10_000, store.applyApps([appSpec('web', { port: 2 })], 'api'));
    assert.equal(result!.app.revision, 2);
  } finally {
    relay.blackHole = false;
    await within('closing the store', 10_000, store.close()).catch(() => undefined);
    await relay.close();
    await db.drop();
  }
});

test("a gateway cut off in the middle of an apply does not hold the other gateways' applies", { skip, timeout: 30_000 }, async () => {
  const db = await createTestDatabase();
  const relay = await new PgRelay(db.url).listen();
  const cutOff: PostgresStoreOptions = { url: relay.url, queryTimeoutMs: 1_000, idleInTransactionMs: 1_500 };
  const a = new PostgresStore(cutOff);
  const b = new PostgresStore({ url: db.url });
  try {
    await a.open();
    await b.open();
    // Gateway A's link goes silent as it sends its COMMIT: on the server its transaction is open, holding the apps lock.
    relay.muteWhen = /COMMIT/;
    await assert.rejects(within("A's apply", 15_000, a.applyApps([appSpec('web', { port: 1 })], 'api')), isUnavailable);
    // B applies meanwhile: it waits for the lock only until the server gives up on A's idle transaction.
    const [result] = await within("B's apply while A's transaction is stranded", 10_000, b.applyApps([appSpec('web', { port: 2 })], 'api'));
    assert.equal(result!.app.revision, 1);
    // A's change never committed: one state, B's.
    assert.equal((await b.getApp('web'))!.spec.port, 2);
  } finally {
    relay.muteWhen = undefined;
    await within('closing A', 10_000, a.close()).catch(() => undefined);
    await b.close();
    await relay.close();
    await db.drop();
  }
});

test("a lease whose COMMIT goes unanswered does not hand its silent connection to the next app's lease", { skip, timeout: 30_000 }, async () => {
  const db = await createTestDatabase();
  const relay = await new PgRelay(db.url).listen();
  const pool = new pg.Pool({ connectionString: relay.url, max: 1, query_timeout: 1_000, application_name: 'berth-lease-silent' });
  pool.on('error', () => undefined);
  const admin = new pg.Client({ connectionString: db.url });
  try {
    await admin.connect();
    const leases = new AppLeases(pool, pino({ level: 'silent' }));
    // The link goes silent as the first lease commits (its start is done by then).
    relay.muteWhen = /COMMIT/;
    assert.equal(await within('the first lease', 10_000, leases.hold('one', 5_000, async () => 'started')), 'started');
    relay.muteWhen = undefined;
    // The next app's start holds its own lease, on a connection that answers.
    const held = await within('the second lease', 10_000, leases.hold('two', 5_000, async () => {
      const { rows } = await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND a.datname = $1 AND l.granted", [db.name]);
      return rows[0]!.n;
    }));
    // The first lease's transaction is still open on the server (the relay never passed its end): two advisory locks, one of them "two"'s.
    assert.equal(held, 2);
  } finally {
    relay.muteWhen = undefined;
    await admin.end().catch(() => undefined);
    await pool.end().catch(() => undefined);
    await relay.close();
    await db.drop();
  }
});
