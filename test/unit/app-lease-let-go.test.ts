/**
 * A per-app lease let go before its work ends (a cold start once its container runs):
 * COMMIT goes at once and the connection's place passes to the next lease, while the
 * work runs on; the hold itself resolves only after both. Held to the end of the work
 * (the wait for readiness, up to the start timeout), a few never-ready apps held every
 * lease connection against every other app's start.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import type pg from 'pg';
import { pino } from 'pino';
import { AppLeases } from '../../src/cluster/gateways/app-lease.js';

/** A pool of one connection that records its statements and answers each at once. */
function fakePool(statements: string[]): { pool: pg.Pool; out: () => number } {
  let out = 0;
  const client = Object.assign(new EventEmitter(), {
    query: async (q: string | { text: string }) => {
      statements.push(typeof q === 'string' ? q : q.text);
      return { rows: [], rowCount: 0 };
    },
    release: () => void out--,
  });
  const pool = { options: { max: 1 }, connect: async () => (out++, client) } as unknown as pg.Pool;
  return { pool, out: () => out };
}

/** `promise`, or a failure naming `what` after `ms`. */
function within<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not come within ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

test("a lease let go mid-work commits at once and hands its connection to the next app's lease while the work runs on", async () => {
  const statements: string[] = [];
  const { pool, out } = fakePool(statements);
  const warnings: string[] = [];
  const leases = new AppLeases(pool, pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line).msg) }));
  let finishFirst!: () => void;
  let firstEnded = false;
  let letGoOnce!: () => void;
  const letGone = new Promise<void>((resolve) => (letGoOnce = resolve));
  const first = leases
    .hold('never-ready', 60_000, async (letGo) => {
      letGo();
      letGo(); // again: harmless
      letGoOnce();
      await new Promise<void>((done) => (finishFirst = done));
      firstEnded = true;
      return 'first';
    })
    .then((v) => (assert.ok(firstEnded, 'the hold resolves after its work'), v));
  await letGone;
  try {
    // The only connection: the next lease gets it while the first app's work still runs.
    const second = await within(
      "the second app's lease",
      2_000,
      leases.hold('web', 2_000, async () => {
        assert.equal(firstEnded, false);
        return 'second';
      }),
    );
    assert.equal(second, 'second');
  } finally {
    finishFirst();
  }
  assert.equal(await first, 'first');
  assert.deepEqual(
    statements.map((s) => s.split(' ')[0]),
    ['BEGIN', 'SET', 'SELECT', 'COMMIT', 'BEGIN', 'SET', 'SELECT', 'COMMIT'],
    'each lease committed once, the first before the second began',
  );
  assert.equal(out(), 0, 'every connection is back in the pool');
  assert.deepEqual(warnings, [], 'the second start had its lease');
});

test('a lease not let go is held to the end of its work, as before', async () => {
  const statements: string[] = [];
  const { pool, out } = fakePool(statements);
  const leases = new AppLeases(pool, pino({ level: 'silent' }));
  const result = await leases.hold('web', 2_000, async () => {
    assert.deepEqual(statements.map((s) => s.split(' ')[0]), ['BEGIN', 'SET', 'SELECT'], 'no COMMIT while the work runs');
    return 'done';
  });
  assert.equal(result, 'done');
  assert.equal(statements.at(-1), 'COMMIT');
  assert.equal(out(), 0);
});

test("a start that goes ahead without its lease (the store does not answer) leaves its connection's place to the next start at once", async () => {
  let connects = 0;
  const pool = {
    options: { max: 1 },
    connect: async () => {
      connects++;
      throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    },
  } as unknown as pg.Pool;
  const warnings: string[] = [];
  const leases = new AppLeases(pool, pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line).msg) }));
  let finishFirst!: () => void;
  let firstRunning!: () => void;
  const running = new Promise<void>((resolve) => (firstRunning = resolve));
  const first = leases.hold('never-ready', 60_000, async () => {
    firstRunning();
    await new Promise<void>((done) => (finishFirst = done));
  });
  await running;
  try {
    const began = performance.now();
    await within("the second app's start", 2_000, leases.hold('web', 1_000, async () => undefined));
    assert.ok(performance.now() - began < 500, 'it did not queue behind the first start for a connection that start never had');
    assert.equal(connects, 2, 'it tried the store itself');
    assert.ok(!warnings.some((w) => /stayed busy/.test(w)), warnings.join('; '));
  } finally {
    finishFirst();
  }
  await first;
});
