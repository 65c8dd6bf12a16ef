// The leader lease on a real PostgreSQL server: one holder at a time; when the
// leader's connection is cut by the server, it stops acting before the next one
// starts; a leader that closes hands over; a gateway that cannot reach the server
// never leads.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import pino from 'pino';
import { LeaderLease } from '../../src/cluster/gateways/leader-lease.js';
import { createTestDatabase, databaseExists, pgSkip, type TestDatabase } from '../support/pg-test-db.js';
import { waitFor } from '../support/wait-for.js';

const skip = pgSkip();
const logger = pino({ level: 'silent' });

interface Timeline {
  lease: LeaderLease;
  events: Array<{ leading: boolean; at: number }>;
}

function lease(url: string): Timeline {
  const events: Timeline['events'] = [];
  const l = new LeaderLease({ url, logger, pollMs: 100, checkMs: 50, leaseMs: 400, onLeading: (leading) => events.push({ leading, at: performance.now() }), onNotice: () => undefined, onConnected: () => undefined });
  return { lease: l, events };
}

describe('the leader lease', { skip, timeout: 60_000 }, () => {
  let db: TestDatabase | undefined;
  const all: Timeline[] = [];
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    for (const t of all) await t.lease.close();
    if (db) {
      await db.drop();
      assert.equal(await databaseExists(db.name), false);
    }
  });

  test('one leader at a time; a cut connection stops its leader before the next one acts', async () => {
    const a = lease(db!.url);
    const b = lease(db!.url);
    all.push(a, b);
    await a.lease.start();
    await waitFor('A leads', () => a.lease.leading, { timeoutMs: 5_000, intervalMs: 10 });
    await b.lease.start();
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(b.lease.leading, false, 'B waits while A holds the lock');

    // The server ends A's session (as a restart or an operator would): its lock goes with it.
    const admin = new pg.Client({ connectionString: db!.url });
    await admin.connect();
    try {
      const { rowCount } = await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'berth-leader' AND datname = current_database() AND pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)");
      assert.equal(rowCount, 1, "A's session is the one holding the lock");
    } finally {
      await admin.end();
    }
    await waitFor('a leader again', () => a.lease.leading || b.lease.leading, { timeoutMs: 10_000, intervalMs: 10 });
    const aStopped = a.events.find((e) => !e.leading)?.at;
    const nextStarted = [...a.events.filter((e) => e.leading).slice(1), ...b.events.filter((e) => e.leading)].map((e) => e.at).sort()[0];
    assert.ok(aStopped !== undefined && nextStarted !== undefined, JSON.stringify({ a: a.events, b: b.events }));
    assert.ok(aStopped < nextStarted, `A stopped acting (${aStopped}) before the next leader acted (${nextStarted})`);
    assert.ok(!(a.lease.leading && b.lease.leading), 'never two');
  });

  test('a server nobody can reach: no leadership', async () => {
    const url = new URL(db!.url);
    url.port = '1';
    const c = lease(url.toString());
    all.push(c);
    await c.lease.start();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(c.lease.leading, false);
    assert.deepEqual(c.events, []);
  });
});
