import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SlotQueue } from '../../src/cluster/gateways/slot-queue.js';

test('a slot queue grants up to its size at once, then in arrival order as slots come back', async () => {
  const q = new SlotQueue(2);
  const a = await q.acquire(1_000);
  const b = await q.acquire(1_000);
  assert.ok(a && b);
  const order: string[] = [];
  const c = q.acquire(5_000).then((r) => (order.push('c'), r));
  const d = q.acquire(5_000).then((r) => (order.push('d'), r));
  assert.equal(q.queued, 2);
  a();
  a(); // twice: harmless, it frees one slot only
  const rc = await c;
  assert.ok(rc);
  assert.deepEqual(order, ['c']);
  assert.equal(q.queued, 1, 'd still waits: the double release freed nothing more');
  b();
  assert.ok(await d);
  assert.deepEqual(order, ['c', 'd']);
});

test('a waiter gives up after its wait, leaves the queue, and a slot released later is not lost', async () => {
  const q = new SlotQueue(1);
  const a = await q.acquire(1_000);
  assert.ok(a);
  assert.equal(await q.acquire(20), undefined, 'no slot within 20 ms');
  assert.equal(q.queued, 0);
  a();
  const b = await q.acquire(0);
  assert.ok(b, 'the released slot is free again');
  b();
});
