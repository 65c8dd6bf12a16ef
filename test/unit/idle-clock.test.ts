import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdleClock } from '../../src/activator/idle-clock.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('fires once after the idle time with nothing in flight', async () => {
  let fired = 0;
  const clock = new IdleClock(() => fired++);
  clock.arm(40);
  await sleep(20);
  assert.equal(fired, 0);
  await sleep(60);
  assert.equal(fired, 1);
  clock.disarm();
});

test('never fires while something is in flight, and counts from the last end', async () => {
  let fired = 0;
  const clock = new IdleClock(() => fired++);
  clock.arm(30);
  clock.began();
  await sleep(80);
  assert.equal(fired, 0, 'in flight: not idle');
  assert.equal(clock.idleAt, undefined);
  clock.ended();
  assert.ok(clock.idleAt, 'idle deadline known once nothing is in flight');
  await sleep(10);
  assert.equal(fired, 0);
  await sleep(60);
  assert.equal(fired, 1);
  clock.disarm();
});

test('activity pushes the deadline back', async () => {
  let fired = 0;
  const clock = new IdleClock(() => fired++);
  clock.arm(50);
  for (let i = 0; i < 4; i++) {
    await sleep(25);
    clock.began();
    clock.ended();
  }
  assert.equal(fired, 0);
  await sleep(90);
  assert.equal(fired, 1);
  clock.disarm();
});

test('drained resolves when the last request ends, or after the grace time', async () => {
  const clock = new IdleClock(() => undefined);
  clock.began();
  let done = false;
  const drained = clock.drained(5_000).then(() => (done = true));
  await sleep(10);
  assert.equal(done, false);
  clock.ended();
  await drained;
  assert.equal(done, true);
  clock.began();
  const started = performance.now();
  await clock.drained(30);
  assert.ok(performance.now() - started >= 25, 'bounded by the grace time');
});

test('disarm stops a pending idle', async () => {
  let fired = 0;
  const clock = new IdleClock(() => fired++);
  clock.arm(20);
  clock.disarm();
  await sleep(50);
  assert.equal(fired, 0);
});

test('restore: counts on from a last request before a restart; a request seen since wins', async () => {
  let fired = 0;
  const clock = new IdleClock(() => fired++);
  clock.restore(Date.now() - 10_000);
  assert.ok(Math.abs(clock.lastActivity!.getTime() - (Date.now() - 10_000)) < 50);
  clock.arm(10_050);
  assert.ok(clock.idleAt!.getTime() - Date.now() < 1_000, 'the restored time counts, not the arming');
  await sleep(150);
  assert.equal(fired, 1, 'idle once the rest of the timeout went by');
  clock.disarm();
  const busy = new IdleClock(() => undefined);
  busy.began();
  busy.ended();
  busy.restore(Date.now() - 60_000);
  assert.ok(Date.now() - busy.lastActivity!.getTime() < 1_000, 'a newer request is kept');
});

test('requests one after another set no new idle timer each; the pending one re-arms for the latest activity', async () => {
  let fired = 0;
  const clock = new IdleClock(() => fired++);
  clock.arm(150_000);
  const realSetTimeout = globalThis.setTimeout;
  const realClearTimeout = globalThis.clearTimeout;
  let timers = 0;
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
    timers++;
    return realSetTimeout(...args);
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((t: Parameters<typeof clearTimeout>[0]) => {
    timers++;
    realClearTimeout(t);
  }) as typeof clearTimeout;
  try {
    // The proxy's hot path: each request begins and ends with nothing else in flight.
    for (let i = 0; i < 1000; i++) {
      clock.began();
      clock.ended();
    }
  } finally {
    globalThis.setTimeout = realSetTimeout;
    globalThis.clearTimeout = realClearTimeout;
  }
  assert.equal(timers, 0, 'the timer armed before is left pending');
  // The deadline still counts from the last end (the pending timer re-arms for the rest when
  // it fires early: 'activity pushes the deadline back' above goes through that).
  const left = clock.idleAt!.getTime() - Date.now();
  assert.ok(left > 100_000 && left <= 150_000, `idle in ${left} ms`);
  assert.equal(fired, 0);
  clock.disarm();
});
