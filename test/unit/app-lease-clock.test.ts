/**
 * The per-app lease's lock wait is what is left of the start's budget after
 * queueing for a connection. It was measured on the wall clock: a clock set back
 * an hour while a start queued (an NTP step, a VM resumed) gave the lock wait an
 * hour more, holding the start and its requests that long behind another gateway.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import type pg from 'pg';
import { pino } from 'pino';
import { AppLeases } from '../../src/cluster/gateways/app-lease.js';

/** A pool of one connection that records its statements and answers each at once. */
function fakePool(statements: string[]): pg.Pool {
  const client = Object.assign(new EventEmitter(), {
    query: async (q: string | { text: string }) => {
      statements.push(typeof q === 'string' ? q : q.text);
      return { rows: [], rowCount: 0 };
    },
    release: () => undefined,
  });
  return { options: { max: 1 }, connect: async () => client } as unknown as pg.Pool;
}

test('a wall clock set back while a start queues for a connection does not lengthen its lock wait', async () => {
  const statements: string[] = [];
  const leases = new AppLeases(fakePool(statements), pino({ level: 'silent' }));
  let finishFirst!: () => void;
  const firstRunning = new Promise<void>((resolve) => {
    void leases.hold('a', 10_000, () => {
      resolve();
      return new Promise<void>((done) => (finishFirst = done));
    });
  });
  await firstRunning;
  const realNow = Date.now;
  try {
    let secondRan = false;
    const second = leases.hold('b', 10_000, async () => {
      secondRan = true;
    });
    // The second start now waits for the only connection; the clock steps back an hour.
    const stepped = realNow() - 3_600_000;
    Date.now = () => stepped;
    finishFirst();
    await second;
    assert.ok(secondRan);
  } finally {
    Date.now = realNow;
  }
  const waits = statements.filter((s) => s.startsWith('SET LOCAL lock_timeout')).map((s) => Number(s.split('=')[1]));
  assert.equal(waits.length, 2, statements.join('; '));
  assert.ok(waits[1]! <= 10_000 && waits[1]! >= 1, `the second lock wait is ${waits[1]} ms, at most its 10 s budget`);
});
