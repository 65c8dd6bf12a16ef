// The leader lease on a real PostgreSQL server: one holder at a time; when the
// leader's connection is cut by the server, it stops acting before the next one
// starts; a leader that closes hands over; a gateway that cannot reach the server
// never leads; a leader whose host vanishes (its packets dropped, its socket never
// closed) gives the lock up within the dead-peer probes, not the kernel's two hours.
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import pino from 'pino';
import type { DeadPeerProbes } from '../../src/cluster/gateways/dead-peer.js';
import { LeaderLease } from '../../src/cluster/gateways/leader-lease.js';
import { createTestDatabase, databaseExists, pgSkip, type TestDatabase } from '../support/pg-test-db.js';
import { waitFor } from '../support/wait-for.js';

const skip = pgSkip();
const logger = pino({ level: 'silent' });

interface Timeline {
  lease: LeaderLease;
  events: Array<{ leading: boolean; at: number }>;
}

function lease(url: string, deadPeer?: DeadPeerProbes): Timeline {
  const events: Timeline['events'] = [];
  const l = new LeaderLease({ url, logger, pollMs: 100, checkMs: 50, leaseMs: 400, deadPeer, onLeading: (leading) => events.push({ leading, at: performance.now() }), onNotice: () => undefined, onConnected: () => undefined });
  return { lease: l, events };
}

/** Drops every packet between the server's port and one client port on loopback (both directions), as a host that vanished; the returned function takes the rules out. */
function blackHole(serverPort: number, clientPort: number): () => void {
  const rules = [
    ['-p', 'tcp', '-i', 'lo', '--sport', String(serverPort), '--dport', String(clientPort), '-j', 'DROP'],
    ['-p', 'tcp', '-i', 'lo', '--sport', String(clientPort), '--dport', String(serverPort), '-j', 'DROP'],
  ];
  const added: string[][] = [];
  try {
    for (const r of rules) {
      execFileSync('iptables', ['-I', 'INPUT', ...r]);
      added.push(r);
    }
  } catch (err) {
    for (const r of added) execFileSync('iptables', ['-D', 'INPUT', ...r]);
    throw err;
  }
  return () => {
    for (const r of added.splice(0)) {
      try {
        execFileSync('iptables', ['-D', 'INPUT', ...r]);
      } catch {
        // already gone
      }
    }
  };
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
    // A still leads until it notices its session is gone: wait for a leadership that began after
    // the cut (A's second, or B's first), not for `leading` alone, which A's first one satisfies.
    const next = () => [...a.events.filter((e) => e.leading).slice(1), ...b.events.filter((e) => e.leading)].map((e) => e.at).sort((x, y) => x - y)[0];
    await waitFor('a leader again', () => next() !== undefined, { timeoutMs: 10_000, intervalMs: 10 });
    const aStopped = a.events.find((e) => !e.leading)?.at;
    const nextStarted = next();
    assert.ok(aStopped !== undefined && nextStarted !== undefined, JSON.stringify({ a: a.events, b: b.events }));
    assert.ok(aStopped < nextStarted, `A stopped acting (${aStopped}) before the next leader acted (${nextStarted})`);
    assert.ok(!(a.lease.leading && b.lease.leading), 'never two');
  });

  test("a leader whose host vanishes: the server drops its session after the probes, and another gateway leads", async () => {
    // Short probes for the test (1 s idle, 2 × 1 s): the defaults bound it at ~11 s. Without any,
    // the server would keep the vanished leader's session, and its lock, for the kernel's 2 h+.
    for (const t of all.splice(0)) await t.lease.close(); // the last test's leader lets go
    const a = lease(db!.url, { idleS: 1, intervalS: 1, count: 2 });
    const b = lease(db!.url);
    all.push(a, b);
    await a.lease.start();
    await waitFor('A leads', () => a.lease.leading, { timeoutMs: 5_000, intervalMs: 10 });
    await b.lease.start();
    const admin = new pg.Client({ connectionString: db!.url });
    let restore = () => undefined as void;
    try {
      await admin.connect();
      const { rows } = await admin.query<{ client_port: number }>("SELECT client_port FROM pg_stat_activity WHERE application_name = 'berth-leader' AND datname = current_database() AND pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)");
      assert.equal(rows.length, 1, "A's session holds the lock");
      restore = blackHole(Number(new URL(db!.url).port), rows[0]!.client_port);
      // A stops acting on its own (its checks go unanswered) and connects anew; the lock is free
      // once the server has dropped the old session, and whichever gateway takes it then leads.
      const next = () => [...a.events.filter((e) => e.leading).slice(1), ...b.events.filter((e) => e.leading)].map((e) => e.at).sort((x, y) => x - y)[0];
      await waitFor('a leader again', () => next() !== undefined, { timeoutMs: 15_000, intervalMs: 20 });
      const { rows: holders } = await admin.query<{ client_port: number }>("SELECT client_port FROM pg_stat_activity WHERE application_name = 'berth-leader' AND datname = current_database() AND pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)");
      assert.equal(holders.length, 1);
      assert.notEqual(holders[0]!.client_port, rows[0]!.client_port, "the lock moved off the vanished session");
      const aStopped = a.events.find((e) => !e.leading)?.at;
      assert.ok(aStopped !== undefined && aStopped < next()!, `the cut-off leader stopped acting (${aStopped}) before the next one acted (${next()})`);
    } finally {
      restore();
      await admin.end().catch(() => undefined);
    }
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
