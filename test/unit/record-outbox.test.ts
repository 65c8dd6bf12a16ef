// A worker's finished requests on their way to the control: batched by size and
// time, and bounded while the control does not read (SIGSTOP, a blocked event loop),
// when every batch used to wait in the worker's memory for as long as it lasted.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordOutbox } from '../../src/cluster/record-outbox.js';
import type { WireRecord } from '../../src/cluster/state-feed.js';
import { eventually } from '../support/fake-activator.js';

const record = (i: number): WireRecord => [i, 'web', 'GET', '/', 200, 1, 0, 2, '127.0.0.1', 0, null, null];

test('batches: one as soon as `batch` records wait, the rest after the interval', async () => {
  const sent: number[][] = [];
  const outbox = new RecordOutbox({ send: (records, written) => (sent.push(records.map((r) => r[0])), written()), everyMs: 20, batch: 3 });
  for (let i = 0; i < 4; i++) outbox.add(record(i));
  assert.deepEqual(sent, [[0, 1, 2]]);
  await eventually('the rest after the interval', () => sent.length === 2);
  assert.deepEqual(sent[1], [3]);
  outbox.close();
});

test('a control that does not read: a few batches wait in the channel, at most maxHeld records here, the rest dropped and counted; all goes out in order once it reads', async () => {
  const sent: number[][] = [];
  const pending: Array<() => void> = [];
  const drops: unknown[] = [];
  // The channel takes nothing: process.send's callbacks wait until the control reads.
  const outbox = new RecordOutbox({ send: (records, written) => (sent.push(records.map((r) => r[0])), pending.push(written)), onDrop: (e) => drops.push(e), everyMs: 10, batch: 10, maxHeld: 100, maxUnwritten: 2 });
  for (let i = 0; i < 10_000; i++) outbox.add(record(i));
  assert.equal(sent.length, 2, 'two batches handed to the channel, no more');
  assert.equal(outbox.heldCount, 100, 'held here: bounded');
  assert.deepEqual(drops, [{ dropping: true }], 'dropping is told once');
  // The control reads again.
  for (let i = 0; i < 20 && sent.flat().length < 120; i++) {
    for (const written of pending.splice(0)) written();
    await eventually('the next batches', () => pending.length > 0 || sent.flat().length === 120);
  }
  for (const written of pending.splice(0)) written();
  assert.deepEqual(sent.flat(), Array.from({ length: 120 }, (_, i) => i), 'the first 120 records, in order; the 9,880 after them dropped');
  assert.equal(outbox.heldCount, 0);
  assert.deepEqual(drops.at(-1), { dropping: false, dropped: 9_880 });
  outbox.close();
});

test('a graceful close (drain) hands over every held record, not only the batches one flush may, and resolves once all are written', async () => {
  const sent: number[][] = [];
  const pending: Array<() => void> = [];
  // The channel takes a batch in a later turn, as process.send's callback comes.
  const outbox = new RecordOutbox({ send: (records, written) => (sent.push(records.map((r) => r[0])), pending.push(written)), everyMs: 60_000, batch: 10, maxHeld: 1_000, maxUnwritten: 2 });
  // The control did not read for a while: 2 batches in the channel, 980 records held here.
  for (let i = 0; i < 1_000; i++) outbox.add(record(i));
  assert.equal(outbox.heldCount, 980);
  let drained = false;
  const drain = outbox.drain().then(() => (drained = true));
  // The control reads again: each written batch lets the next go at once (no 60 s interval).
  for (let turns = 0; turns < 1_000 && pending.length > 0; turns++) {
    pending.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
  }
  await drain;
  assert.ok(drained);
  assert.deepEqual(sent.flat(), Array.from({ length: 1_000 }, (_, i) => i), 'all 1,000 records, in order');
  assert.equal(outbox.heldCount, 0);
  outbox.close();
});

test('drain with nothing held resolves at once', async () => {
  const outbox = new RecordOutbox({ send: (_records, written) => written() });
  await outbox.drain();
  outbox.close();
});

test('over a real IPC channel: a child holding 20,000 records at its close hands the control every one before it disconnects', { timeout: 30_000 }, async () => {
  const child = fork(fileURLToPath(new URL('../support/outbox-child.js', import.meta.url)), [], { env: { ...process.env, OUTBOX_HELD: '20000' } });
  const ids = new Set<number>();
  let heldAtClose = 0;
  child.on('message', (message: { t: string; held?: number; records?: Array<[number]> }) => {
    if (message.t === 'added') {
      heldAtClose = message.held!;
      child.send('close');
    } else if (message.t === 'records') for (const r of message.records!) ids.add(r[0]);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await exited;
  clearTimeout(timer);
  assert.equal(code, 0);
  assert.ok(heldAtClose > 4_096, `more held at close than one flush hands over (${heldAtClose})`);
  // One flush handed over at most 8 batches of 512: the rest were lost with the worker.
  assert.equal(ids.size, 20_000);
});
