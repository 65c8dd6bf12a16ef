/**
 * The gateway's bound on idle stops under way at once (limits.concurrentIdleStops).
 * Apps a crawler woke together idle out together: without it each of their stops was
 * an engine call at once, each holding a descriptor and an engine connection for up to
 * its stop timeout, beside everything else the gateway does meanwhile.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, fakeActivator, fakeSpec, waitForState } from '../support/fake-activator.js';
import { FakeRuntime, sleep } from '../support/fake-runtime.js';

/** Holds each stop until `open()` is called, counting the stops under way at once. */
function gateStops(rt: FakeRuntime): { max: number; now: number; stopped: string[]; open: () => void } {
  const seen = { max: 0, now: 0, stopped: [] as string[], open: () => undefined as void };
  let gate!: () => void;
  let opened = new Promise<void>((resolve) => (gate = resolve));
  seen.open = () => {
    gate();
    opened = Promise.resolve();
  };
  const stop = rt.stop.bind(rt);
  rt.stop = async (id: string) => {
    seen.max = Math.max(seen.max, ++seen.now);
    try {
      await opened;
      seen.stopped.push(id);
      return await stop(id);
    } finally {
      seen.now--;
    }
  };
  return seen;
}

test('concurrentIdleStops: 6 apps idling out at once stop 2 at a time, and all stop', async () => {
  const rt = new FakeRuntime();
  const names = Array.from({ length: 6 }, (_, i) => `app${i}`);
  const a = fakeActivator(rt, { concurrentIdleStops: 2 });
  try {
    await a.reconcile(names.map((n) => fakeSpec(n, { idleTimeout: '100ms' })));
    await Promise.all(names.map((n) => a.acquire(n)));
    const seen = gateStops(rt);
    // Every app's idle clock has run out; two stops are under way, held by the engine.
    await eventually('two stops under way', () => seen.now === 2);
    await sleep(300);
    assert.equal(seen.max, 2, 'never more than 2 idle stops at once');
    const waiting = names.filter((n) => a.status(n)?.state === 'running');
    assert.equal(waiting.length, 4, 'the others wait their turn, still running');
    seen.open();
    for (const n of names) await waitForState(a, n, 'stopped', 3_000);
    assert.equal(seen.max, 2);
    for (const n of names) assert.equal(a.status(n)?.reason, 'idle');
  } finally {
    a.close();
    await rt.close();
  }
});

test('concurrentIdleStops: an app whose idle stop waits its turn keeps serving, and a request calls the stop off', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt, { concurrentIdleStops: 1 });
  try {
    await a.reconcile([fakeSpec('first', { idleTimeout: '50ms' }), fakeSpec('second', { idleTimeout: '150ms' })]);
    await a.acquire('first');
    await a.acquire('second');
    const seen = gateStops(rt);
    // `first` idles out and holds the only slot; `second` idles out behind it.
    await eventually('first stop under way', () => seen.now === 1);
    await sleep(250);
    assert.equal(a.status('second')?.state, 'running');
    // A request for `second` while its stop waits: served by the running container, no start.
    const starts = rt.calls.start;
    const upstream = await a.acquire('second');
    assert.ok(upstream, 'served while its stop waited');
    a.began('second');
    assert.equal(rt.calls.start, starts, 'no start: the app was still running');
    seen.open();
    await waitForState(a, 'first', 'stopped', 3_000);
    await sleep(100);
    assert.equal(a.status('second')?.state, 'running', 'the queued stop was called off by the request in flight');
    assert.equal(rt.running('second').length, 1);
    // Once the request ends the idle clock counts again, and the stop goes ahead.
    a.ended('second');
    await waitForState(a, 'second', 'stopped', 3_000);
    assert.equal(a.status('second')?.reason, 'idle');
  } finally {
    a.close();
    await rt.close();
  }
});

test('concurrentIdleStops: closing the gateway ends the waits at once', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt, { concurrentIdleStops: 1 });
  const seen = gateStops(rt);
  try {
    await a.reconcile([fakeSpec('one', { idleTimeout: '30ms' }), fakeSpec('two', { idleTimeout: '30ms' })]);
    await a.acquire('one');
    await a.acquire('two');
    await eventually('a stop under way', () => seen.now === 1);
    await sleep(100);
  } finally {
    a.close();
    seen.open();
    await rt.close();
  }
  // Nothing left waiting for a slot: the second app's stop was never started after the close.
  await sleep(100);
  assert.equal(seen.stopped.length, 1);
});

test('an idle stop whose lease fails (several gateways, the store away) is logged, not an unhandled rejection that ends the gateway', async () => {
  const rt = new FakeRuntime();
  let refuse = false;
  let refused = 0;
  const a = fakeActivator(rt, {
    lease: <T>(_app: string, _waitMs: number, work: () => Promise<T>) => {
      if (!refuse) return work();
      refused++;
      return Promise.reject(new Error('the store cannot be reached'));
    },
  });
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => unhandled.push(err);
  process.on('unhandledRejection', onUnhandled);
  try {
    await a.reconcile([fakeSpec('web', { idleTimeout: '50ms' })]);
    await a.acquire('web');
    refuse = true;
    await eventually('the idle stop asked for the lease', () => refused > 0);
    await sleep(50);
    assert.deepEqual(unhandled, []);
    assert.equal(a.status('web')?.state, 'running');
  } finally {
    process.off('unhandledRejection', onUnhandled);
    a.close();
    await rt.close();
  }
});
