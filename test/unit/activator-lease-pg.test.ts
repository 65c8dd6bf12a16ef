// Several gateways on one PostgreSQL store: each cold start takes its app's lease on a
// connection of the gateway's lease pool. Held until the app was ready, two never-ready
// apps with long start timeouts held every connection of a pool of two, and a healthy
// app's cold start waited its whole start timeout for one (then went ahead without it,
// or failed, its time gone). The lease is let go once the container runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { pino } from 'pino';
import type { Activator } from '../../src/activator/activator.js';
import { AppLeases } from '../../src/cluster/gateways/app-lease.js';
import { eventually, fakeActivator, fakeSpec } from '../support/fake-activator.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { createTestDatabase, pgSkip } from '../support/pg-test-db.js';
import { waitFor } from '../support/wait-for.js';

const skip = pgSkip();

/** Advisory locks granted in this database now (pg_locks is the whole server's). */
async function advisoryLocks(admin: pg.Client): Promise<number> {
  const { rows } = await admin.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())");
  return rows[0].n;
}

/** A gateway's activator whose starts take leases on a pool of `max` connections; `warnings` gets what it logs at warn. */
function leasedActivator(runtime: FakeRuntime, url: string, max: number, warnings: string[]): { activator: Activator; pool: pg.Pool } {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 1_500, application_name: 'berth-leases-test' });
  pool.on('error', () => undefined);
  const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line).msg) });
  const leases = new AppLeases(pool, logger);
  const activator = fakeActivator(runtime, { lease: (app, waitMs, work) => leases.hold(app, waitMs, work) });
  return { activator, pool };
}

test("never-ready apps' starts let their leases go once their containers run: a healthy app's cold start gets one at once", { skip, timeout: 30_000 }, async () => {
  const db = await createTestDatabase();
  const admin = new pg.Client({ connectionString: db.url });
  const rt = new FakeRuntime();
  rt.behave('stuck1', { neverReady: true });
  rt.behave('stuck2', { neverReady: true });
  const warnings: string[] = [];
  const { activator: a, pool } = leasedActivator(rt, db.url, 2, warnings);
  const stuck: Array<Promise<string>> = [];
  try {
    await admin.connect();
    await a.reconcile([fakeSpec('stuck1', { startTimeout: '60s' }), fakeSpec('stuck2', { startTimeout: '60s' }), fakeSpec('web', { startTimeout: '4s' })]);
    for (const app of ['stuck1', 'stuck2']) stuck.push(a.acquire(app).then(() => 'served', (err: unknown) => String(err)));
    await eventually('both never-ready containers run', () => rt.running('stuck1').length === 1 && rt.running('stuck2').length === 1);
    const began = performance.now();
    await a.acquire('web');
    const tookMs = performance.now() - began;
    assert.ok(tookMs < 2_000, `web started ${Math.round(tookMs)} ms later, not at once`);
    assert.deepEqual(warnings, [], 'web started under its lease');
    assert.equal(await advisoryLocks(admin), 0, 'no lease is held while the never-ready apps wait for readiness');
    assert.equal(a.status('stuck1')?.state, 'starting', 'the never-ready apps still wait for readiness, outside their leases');
  } finally {
    a.close();
    await Promise.allSettled(stuck);
    await rt.close();
    await admin.end().catch(() => undefined);
    await pool.end().catch(() => undefined);
    await db.drop();
  }
});

test('two gateways cold-starting one slow app: one container, and the second is past the lease before the app is ready', { skip, timeout: 30_000 }, async () => {
  const db = await createTestDatabase();
  const rt = new FakeRuntime();
  rt.behave('slow', { startDelayMs: 100, readyAfterMs: 1_500 });
  const warnings: string[] = [];
  const one = leasedActivator(rt, db.url, 2, warnings);
  const two = leasedActivator(rt, db.url, 2, warnings);
  try {
    const spec = fakeSpec('slow', { startTimeout: '10s' });
    await one.activator.reconcile([spec]);
    await two.activator.reconcile([spec]);
    const began = performance.now();
    const both = Promise.all([one.activator.acquire('slow'), two.activator.acquire('slow')]);
    // Each gateway starts the container (the second's start finds it running): both are under way before it is ready.
    await eventually('both gateways past the lease', () => rt.calls.start === 2, 1_200);
    assert.ok(performance.now() - began < 1_500, 'the second start did not wait for the app to be ready');
    await both;
    assert.equal(rt.calls.ensure, 1, 'one create');
    assert.equal([...rt.containers.values()].filter((c) => c.instance.app === 'slow').length, 1, 'one container across both gateways');
    assert.deepEqual(rt.doubleStarts, []);
    assert.deepEqual(warnings, []);
  } finally {
    one.activator.close();
    two.activator.close();
    await rt.close();
    for (const p of [one.pool, two.pool]) await p.end().catch(() => undefined);
    await db.drop();
  }
});
