// The leader's fence before an idle stop, between two GatewayClusters on a real
// PostgreSQL (no Docker): the follower's answer must come after a heartbeat that
// wrote its activity of now. A heartbeat already under way when the fence came
// carries activity snapshotted before the request: answering after it (or at
// once) let the leader read no traffic and stop an app another gateway served.
// And cold starts in progress, each holding its app's lease on a connection for
// its engine calls (the whole start, when a start never lets it go), must not take the connections the heartbeat needs; and a
// lease's connection the server drops mid-start (a restart) must not end the process.
// A follower that cannot read the store shows its own view, not the leader's last one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import pino from 'pino';
import type { AppStatus } from '../../src/activator/app-status.js';
import { AppLeases } from '../../src/cluster/gateways/app-lease.js';
import { GatewayCluster, type ClusterHost } from '../../src/cluster/gateways/gateway-cluster.js';
import { inTransaction } from '../../src/store/pg-connect.js';
import { PostgresStore } from '../../src/store/postgres-store.js';
import { createTestDatabase, pgSkip } from '../support/pg-test-db.js';
import { waitFor } from '../support/wait-for.js';

const logger = pino({ level: 'silent' });

function host(statuses: AppStatus[] = []): ClusterHost {
  return {
    statuses: (): AppStatus[] => statuses,
    status: () => undefined,
    applyPeerDeltas: () => undefined,
    desiredChanged: () => undefined,
    leadingChanged: () => undefined,
  };
}

function cluster(url: string, id: string, statuses: AppStatus[] = [], extra: Partial<ClusterHost> = {}): GatewayCluster {
  return new GatewayCluster({
    url,
    logger,
    host: { ...host(statuses), ...extra },
    heartbeatMs: 60_000, // beats only when the test (or a fence) asks
    fenceTimeoutMs: 4_000,
    self: () => ({ id, proxyAddress: '127.0.0.1:1', adminAddress: '127.0.0.1:2', version: 'test', startedAtMs: 0 }),
  });
}

/** A heartbeat now (the tests' clusters beat only when asked). */
const beat = (c: GatewayCluster) => (c as unknown as { heartbeat(): Promise<void> }).heartbeat();

/** On a migrated database: gw-a leading, and gw-b alive in its registry (its fence waits for gw-b's answer). Both go into `clusters`, for the test's finally. */
async function leaderAndFollower(url: string, clusters: GatewayCluster[], followerHost: Partial<ClusterHost> = {}): Promise<{ leader: GatewayCluster; follower: GatewayCluster }> {
  const store = new PostgresStore({ url });
  await store.open();
  await store.close();
  const leader = cluster(url, 'gw-a');
  clusters.push(leader);
  await leader.start();
  await waitFor('gw-a to lead', () => leader.leading);
  const follower = cluster(url, 'gw-b', [], followerHost);
  clusters.push(follower);
  await follower.start();
  await beat(leader);
  assert.ok(leader.gateways.some((g) => g.id === 'gw-b' && g.alive));
  return { leader, follower };
}

test("a fence answered during a follower's heartbeat still sees the request that began before it", { skip: pgSkip(), timeout: 30_000 }, async () => {
  const db = await createTestDatabase();
  const blocker = new pg.Client({ connectionString: db.url });
  const clusters: GatewayCluster[] = [];
  try {
    const { leader, follower } = await leaderAndFollower(db.url, clusters);

    // The follower's next heartbeat stalls on its row, snapshotted with nothing in flight.
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query("SELECT 1 FROM gateways WHERE id = 'gw-b' FOR UPDATE");
    const stalled = beat(follower);
    await new Promise((r) => setTimeout(r, 200));
    // A request begins at the follower after that snapshot; then the leader fences the app.
    follower.local.began('web');
    setTimeout(() => void blocker.query('COMMIT'), 500);
    await leader.fence('web');
    await stalled;
    assert.equal(leader.peerInFlight('web'), 1, "the leader's last look before stopping counts the follower's request");
  } finally {
    for (const c of clusters) await c.close();
    await blocker.end().catch(() => undefined);
    await db.drop();
  }
});

test('cold starts holding their leases leave the heartbeat its connections', { skip: pgSkip(), timeout: 30_000 }, async () => {
  const db = await createTestDatabase();
  const store = new PostgresStore({ url: db.url });
  const gates: Array<() => void> = [];
  const clusters: GatewayCluster[] = [];
  const starts: Array<Promise<unknown>> = [];
  try {
    await store.open();
    await store.close();
    const gw = cluster(db.url, 'gw-a');
    clusters.push(gw);
    await gw.start();
    // Six apps (the cluster pool's size) in their cold start at once, each under its lease.
    for (let i = 0; i < 6; i++) starts.push(gw.leases.hold(`app${i}`, 20_000, () => new Promise<void>((r) => gates.push(r))));
    await waitFor('six starts under their leases', () => gates.length === 6);
    await (gw as unknown as { heartbeat(): Promise<void> }).heartbeat();
    assert.equal(gw.storeReachable, true, 'the heartbeat reached the store (a failed one makes the others take this gateway for dead)');
  } finally {
    for (const g of gates) g();
    await Promise.allSettled(starts);
    for (const c of clusters) await c.close();
    await db.drop();
  }
});

test("a lease's connection the server ends mid-start does not end the process; the start finishes", { skip: pgSkip(), timeout: 30_000 }, async () => {
  const db = await createTestDatabase();
  const pool = new pg.Pool({ connectionString: db.url, max: 2, application_name: 'berth-lease-test' });
  pool.on('error', () => undefined);
  const admin = new pg.Client({ connectionString: db.url });
  let finish!: () => void;
  const gate = new Promise<void>((r) => (finish = r));
  let started = false;
  try {
    const held = new AppLeases(pool, logger).hold('web', 10_000, async () => {
      started = true;
      await gate;
      return 'started';
    });
    await waitFor('the start under its lease', () => started);
    await admin.connect();
    // What a restart of the server does to the lease's session: it ends it while the start runs.
    const { rowCount } = await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'berth-lease-test' AND datname = $1", [db.name]);
    assert.equal(rowCount, 1);
    await new Promise((r) => setTimeout(r, 300));
    finish();
    assert.equal(await held, 'started');
  } finally {
    finish();
    await admin.end().catch(() => undefined);
    await pool.end().catch(() => undefined);
    await db.drop();
  }
});

test('a transaction whose session the server ends between two statements fails; the process goes on', { skip: pgSkip(), timeout: 30_000 }, async () => {
  const db = await createTestDatabase();
  const pool = new pg.Pool({ connectionString: db.url, max: 2, application_name: 'berth-tx-test' });
  pool.on('error', () => undefined);
  const admin = new pg.Client({ connectionString: db.url });
  try {
    await admin.connect();
    const tx = inTransaction(pool, async (client) => {
      await client.query('SELECT 1');
      // Between two statements (idle in transaction): what a restart of the server ends.
      await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'berth-tx-test' AND datname = $1", [db.name]);
      await new Promise((r) => setTimeout(r, 300));
      await client.query('SELECT 2');
    });
    await assert.rejects(tx);
    // The pool hands out a working connection afterwards.
    assert.equal((await pool.query<{ n: number }>('SELECT 3 AS n')).rows[0]?.n, 3);
  } finally {
    await admin.end().catch(() => undefined);
    await pool.end().catch(() => undefined);
    await db.drop();
  }
});

test("a follower cut off from the store stops showing the leader's last view", { skip: pgSkip(), timeout: 30_000 }, async () => {
  const db = await createTestDatabase();
  const store = new PostgresStore({ url: db.url });
  const admin = new pg.Client({ connectionString: db.url });
  const clusters: GatewayCluster[] = [];
  try {
    await store.open();
    await store.close();
    const status: AppStatus = { name: 'web', state: 'stopped', since: new Date(), inFlight: 0, waiting: 0, replicas: 1, readyInstances: 0 };
    const leader = cluster(db.url, 'gw-a', [status]);
    clusters.push(leader);
    await leader.start();
    await waitFor('gw-a to lead', () => leader.leading);
    await beat(leader);
    const follower = cluster(db.url, 'gw-b');
    clusters.push(follower);
    await follower.start();
    assert.equal(follower.leaderStates.get('web')?.state, 'stopped');
    // The follower's reads fail from here (as in an outage); meanwhile it may start the app itself.
    await admin.connect();
    await admin.query('ALTER TABLE app_states RENAME TO app_states_away');
    await beat(follower);
    assert.equal(follower.storeReachable, false);
    assert.equal(follower.leaderStates.has('web'), false, "the leader's last view is no longer shown as the truth");
  } finally {
    for (const c of clusters) await c.close();
    await admin.end().catch(() => undefined);
    await db.drop();
  }
});

// More concurrent cold starts than lease connections: the pool's connect timeout (1.5 s)
// used to run out for the extra ones, which then went ahead without their lease, logged
// as the store not answering. They must wait for a connection and start under the lease.
test('more concurrent cold starts than lease connections wait for one and start under their lease', { skip: pgSkip(), timeout: 30_000 }, async () => {
  const db = await createTestDatabase();
  const pool = new pg.Pool({ connectionString: db.url, max: 2, connectionTimeoutMillis: 300, application_name: 'berth-lease-queue' });
  pool.on('error', () => undefined);
  const admin = new pg.Client({ connectionString: db.url });
  const warnings: string[] = [];
  const watching = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line).msg) });
  const gates: Array<() => void> = [];
  const running: string[] = [];
  const locksSeen = new Map<string, number>();
  let starts: Array<Promise<string>> = [];
  try {
    await admin.connect();
    const leases = new AppLeases(pool, watching);
    const start = (app: string) =>
      leases.hold(app, 20_000, async () => {
        // This database's locks only: pg_locks is the whole server's, and in CI other files' gateways (their leader
        // leases) share the server from databases of their own (a third lock was seen there once).
        const { rows } = await admin.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())");
        locksSeen.set(app, rows[0].n);
        running.push(app);
        await new Promise<void>((r) => gates.push(r));
        return app;
      });
    starts = ['a', 'b', 'c'].map(start);
    await waitFor('two starts under their leases', () => running.length === 2);
    await new Promise((r) => setTimeout(r, 1_000)); // past the pool's connect timeout
    assert.deepEqual(running.slice().sort(), ['a', 'b'], 'the third start waits for a lease connection instead of going ahead alone');
    gates.shift()!();
    await waitFor('the third start', () => running.length === 3);
    assert.equal(running[2], 'c');
    assert.equal(locksSeen.get('c'), 2, "the third start holds its lease: two advisory locks, its own and the other running start's (the first one's was let go)");
    for (const g of gates.splice(0)) g();
    assert.deepEqual(await Promise.all(starts), ['a', 'b', 'c']);
    assert.deepEqual(warnings, [], 'no start went ahead without its lease');
  } finally {
    for (const g of gates) g();
    await Promise.allSettled(starts);
    await admin.end().catch(() => undefined);
    await pool.end().catch(() => undefined);
    await db.drop();
  }
});

// A follower with proxy workers: they serve from their snapshot and report their activity
// to its control every ~100 ms. Its answer to the leader's fence must come after its
// workers' barrier (they stop admitting the app and report), or their last requests are
// missing from what the leader decides an idle stop on; and the hold's end reaches them.
test("a follower's answer to a fence comes after its own workers' barrier, and the hold's end reaches them", { skip: pgSkip(), timeout: 30_000 }, async () => {
  const db = await createTestDatabase();
  const clusters: GatewayCluster[] = [];
  const ended: string[] = [];
  try {
    const { leader, follower } = await leaderAndFollower(db.url, clusters, {
      // As the workers' barrier does: a moment later, the request a worker was serving is in the control's count.
      quiesceLocal: async (app) => {
        await new Promise((r) => setTimeout(r, 300));
        clusters[1]!.local.began(app); // clusters[1]: gw-b, this follower
      },
      holdEnded: (app) => void ended.push(app),
    });
    await leader.fence('web');
    assert.equal(leader.peerInFlight('web'), 1, "the leader's last look counts the request the follower's worker was serving");
    await waitFor('the unfence (no stop) to end the hold', () => !follower.holds.isHeld('web'));
    assert.deepEqual(ended, ['web'], "the hold's end was passed on to the workers");
  } finally {
    for (const c of clusters) await c.close();
    await db.drop();
  }
});

// The leader's stop reaches a follower only as exits; its `stopping` notice comes first, so the follower
// tells them as that stop. A gateway that does not lead announces nothing.
test("the leader's stop is announced to the followers, with its reason", { skip: pgSkip(), timeout: 30_000 }, async () => {
  const db = await createTestDatabase();
  const clusters: GatewayCluster[] = [];
  try {
    const { leader, follower } = await leaderAndFollower(db.url, clusters);
    const since = Date.now();
    follower.announceStop('own', 'idle');
    leader.announceStop('web', 'idle');
    await waitFor('the follower to hear of the stop', () => follower.leaderStops.stoppedSince('web', since, Date.now()) === 'idle');
    assert.equal(leader.leaderStops.stoppedSince('own', since, Date.now()), undefined, 'only the leader announces stops');
  } finally {
    for (const c of clusters) await c.close();
    await db.drop();
  }
});
