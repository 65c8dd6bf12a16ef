/**
 * The gateway's bounds on starts (limits.concurrentStarts, limits.runningApps).
 * Without them a request to every app's host at once created and started every
 * app's container at once: neither the engine nor the host's memory survives
 * that, and with them goes every app behind the gateway.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { runningAppsRefusal } from '../../src/activator/start-budget.js';
import { RunningAppsFullError, StartSlotsBusyError } from '../../src/activator/start-errors.js';
import { httpStatusOf } from '../../src/errors.js';
import { eventually, fakeActivator, fakeSpec, waitForState } from '../support/fake-activator.js';
import { FakeRuntime, sleep } from '../support/fake-runtime.js';

for (const [up, max, refused] of [
  [0, undefined, false],
  [5_000, undefined, false],
  [0, 1, false],
  [1, 2, false],
  [2, 2, true],
  [3, 2, true],
] as const) {
  test(`running apps: ${up} up, at most ${max ?? 'unbounded'}: ${refused ? 'refused' : 'may start'}`, () => {
    const refusal = runningAppsRefusal('web', up, max);
    assert.equal(refusal instanceof RunningAppsFullError, refused);
    if (refusal) {
      assert.equal(httpStatusOf(refusal), 503);
      assert.equal(refusal.retryAfterS, 30);
      assert.match(refusal.message, new RegExp(`app web is not running and the gateway already runs ${max} apps, the most limits.runningApps allows`));
    }
  });
}

/** Counts the runtime's starts under way at once (a start holds its slot until the container is ready, which includes it). */
function countStarts(rt: FakeRuntime): { max: number } {
  const seen = { max: 0 };
  let now = 0;
  const start = rt.start.bind(rt);
  rt.start = async (id: string) => {
    seen.max = Math.max(seen.max, ++now);
    try {
      return await start(id);
    } finally {
      now--;
    }
  };
  return seen;
}

test('concurrentStarts: 8 apps requested at once start 2 at a time, in arrival order, and all serve', async () => {
  const rt = new FakeRuntime();
  const names = Array.from({ length: 8 }, (_, i) => `app${i}`);
  for (const name of names) rt.behave(name, { startDelayMs: 30, readyAfterMs: 10 });
  const seen = countStarts(rt);
  const a = fakeActivator(rt, { startLimits: { concurrentStarts: 2 } });
  try {
    // A start timeout far past the four rounds of starts: the wait for a slot counts in it, and the default 2 s
    // ran out for the last ones on a loaded machine (a StartFailedError, not what this case is about).
    await a.reconcile(names.map((n) => fakeSpec(n, { startTimeout: '20s' })));
    const ready: string[] = [];
    await Promise.all(names.map((n) => a.acquire(n).then(() => ready.push(n))));
    assert.equal(seen.max, 2, 'never more than 2 starts at once');
    assert.equal(rt.calls.start, 8);
    assert.deepEqual(ready.slice(0, 2).sort(), ['app0', 'app1'], 'the first two asked are the first up');
    for (const n of names) assert.equal(a.status(n)?.state, 'running');
  } finally {
    a.close();
    await rt.close();
  }
});

test('concurrentStarts: an app that waits a slot past its start timeout fails saying why, not as a crash, and starts at the next request', async () => {
  const rt = new FakeRuntime();
  rt.behave('slow', { neverReady: true });
  const a = fakeActivator(rt, { startLimits: { concurrentStarts: 1 } });
  try {
    // slow holds the only slot 2.5 s: web's three 300 ms waits must all end inside it. With 1.5 s the margin was
    // 0.6 s over three rounds, which a loaded machine can use up (the third would get the slot and start).
    await a.reconcile([fakeSpec('slow', { startTimeout: '2500ms' }), fakeSpec('web', { startTimeout: '300ms' })]);
    const slow = a.acquire('slow').catch((err: unknown) => err);
    await eventually('slow is starting', () => rt.calls.start === 1);
    for (let i = 0; i < 3; i++) {
      await assert.rejects(a.acquire('web'), (err: unknown) => err instanceof StartSlotsBusyError && httpStatusOf(err) === 503 && err.retryAfterS === 5);
      const status = a.status('web');
      assert.equal(status?.state, 'failed', 'not a crash loop: the gateway was busy, the app did nothing wrong');
      assert.match(status?.lastError ?? '', /start slots \(limits.concurrentStarts\) stayed busy/);
    }
    assert.equal(rt.calls.start, 1, 'web never reached the engine');
    await slow;
    const up = await a.acquire('web');
    assert.ok(up.instanceId);
    assert.equal(a.status('web')?.state, 'running');
  } finally {
    a.close();
    await rt.close();
  }
});

test('concurrentStarts: 1, an app waking its dependency does not hold the only slot against it', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt, { startLimits: { concurrentStarts: 1 } });
  try {
    await a.reconcile([fakeSpec('db'), fakeSpec('web', { dependsOn: ['db'] })]);
    await a.acquire('web');
    assert.equal(a.status('db')?.state, 'running');
    assert.equal(a.status('web')?.state, 'running');
  } finally {
    a.close();
    await rt.close();
  }
});

test('runningApps: 2, a third app is refused with 503 while two are up, and starts once one idled out', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt, { startLimits: { concurrentStarts: 32, runningApps: 2 } });
  try {
    await a.reconcile([fakeSpec('one', { idleTimeout: '400ms' }), fakeSpec('two', { idleTimeout: '1h' }), fakeSpec('three')]);
    await a.acquire('one');
    await a.acquire('two');
    await assert.rejects(a.acquire('three'), (err: unknown) => err instanceof RunningAppsFullError && httpStatusOf(err) === 503);
    assert.equal(a.status('three')?.state, 'stopped', 'a refused app is left as it was');
    await a.acquire('two');
    assert.ok(a.pick('two'), 'an app already up is served as before');
    await waitForState(a, 'one', 'stopped', 3_000);
    await a.acquire('three');
    assert.equal(a.status('three')?.state, 'running');
    await assert.rejects(a.acquire('one'), RunningAppsFullError, 'two are up again');
    await sleep(10);
  } finally {
    a.close();
    await rt.close();
  }
});

test('runningApps: a browser asking for an app past the bound is told why, not given a waiting page that reloads for good', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt, { startLimits: { concurrentStarts: 32, runningApps: 1 } });
  try {
    await a.reconcile([fakeSpec('one'), fakeSpec('two')]);
    await a.acquire('one');
    const browser = { method: 'GET', headers: { accept: 'text/html,application/xhtml+xml', 'sec-fetch-mode': 'navigate' } } as unknown as IncomingMessage;
    const admission = a.admit('two', browser);
    assert.equal(admission.kind, 'fail');
    assert.ok(admission.kind === 'fail' && admission.error instanceof RunningAppsFullError);
    assert.equal(a.admit('one', browser).kind, 'ready', 'an app up is served');
    assert.equal(rt.calls.start, 1);
  } finally {
    a.close();
    await rt.close();
  }
});

test('concurrentStarts: a stop while the start waits for a slot calls it off at once, before it reaches the engine', async () => {
  const rt = new FakeRuntime();
  rt.behave('slow', { neverReady: true });
  const a = fakeActivator(rt, { startLimits: { concurrentStarts: 1 } });
  try {
    await a.reconcile([fakeSpec('slow', { startTimeout: '3s' }), fakeSpec('web', { startTimeout: '3s' })]);
    const slow = a.acquire('slow').catch((err: unknown) => err);
    await eventually('slow holds the only slot', () => rt.calls.start === 1);
    const began = performance.now();
    const waiting = a.acquire('web').then(
      () => 'served',
      (err: unknown) => String(err),
    );
    await waitForState(a, 'web', 'starting');
    await a.controller('web')!.stop('stopped through the API');
    assert.match(await waiting, /called off/);
    assert.ok(performance.now() - began < 1_500, 'not after the slot came free (the slow start holds it 3 s)');
    assert.equal(a.status('web')?.state, 'stopped');
    assert.equal(rt.calls.start, 1, 'web never reached the engine');
    await slow;
  } finally {
    a.close();
    await rt.close();
  }
});

test('concurrentStarts: apps that never get ready, with a long start timeout, do not hold every slot against a healthy app', async () => {
  const rt = new FakeRuntime();
  const broken = ['broken0', 'broken1'];
  for (const name of broken) rt.behave(name, { neverReady: true });
  // Each broken start gives its slot back 200 ms into its wait for readiness; each would hold it 30 s without that.
  const a = fakeActivator(rt, { startLimits: { concurrentStarts: 2, startSlotHoldMs: 200 } });
  try {
    await a.reconcile([...broken.map((n) => fakeSpec(n, { startTimeout: '30s' })), fakeSpec('web', { startTimeout: '2s' })]);
    const waits = broken.map((n) => a.acquire(n).catch((err: unknown) => err));
    await eventually('both broken apps hold a slot', () => rt.calls.start === 2);
    const began = performance.now();
    const up = await a.acquire('web');
    assert.ok(up.instanceId);
    assert.ok(performance.now() - began < 1_500, 'promptly, not at the end of web’s start timeout');
    assert.equal(a.status('web')?.state, 'running');
    for (const n of broken) assert.equal(a.status(n)?.state, 'starting', 'the broken apps still wait for readiness, outside the slots');
    a.close();
    await Promise.all(waits);
  } finally {
    a.close();
    await rt.close();
  }
});

test('startSlotHold: 0 still bounds the engine calls: slots are given back only once a container runs', async () => {
  const rt = new FakeRuntime();
  const names = Array.from({ length: 6 }, (_, i) => `app${i}`);
  for (const name of names) rt.behave(name, { startDelayMs: 60, neverReady: true });
  const seen = countStarts(rt);
  const a = fakeActivator(rt, { startLimits: { concurrentStarts: 2, startSlotHoldMs: 0 } });
  try {
    await a.reconcile(names.map((n) => fakeSpec(n, { startTimeout: '3s' })));
    const waits = names.map((n) => a.acquire(n).catch((err: unknown) => err));
    await eventually('every app reached the engine', () => rt.calls.start === names.length);
    assert.equal(seen.max, 2, 'never more than 2 engine starts at once, however soon each gives its slot back');
    a.close();
    await Promise.all(waits);
  } finally {
    a.close();
    await rt.close();
  }
});

test('startSlotHold: an app that gave its slot back still fails at its own start timeout, for its own reason, and its state says so', async () => {
  const rt = new FakeRuntime();
  rt.behave('broken', { neverReady: true });
  const a = fakeActivator(rt, { startLimits: { concurrentStarts: 1, startSlotHoldMs: 50 } });
  try {
    await a.reconcile([fakeSpec('broken', { startTimeout: '600ms' })]);
    const began = performance.now();
    const failure = await a.acquire('broken').then(
      () => undefined,
      (err: unknown) => err,
    );
    assert.ok(performance.now() - began >= 550, 'not before its start timeout');
    assert.ok(!(failure instanceof StartSlotsBusyError));
    assert.match(String(failure), /not ready in time|600ms/);
    assert.equal(a.status('broken')?.state, 'failed');
    assert.match(a.status('broken')?.lastError ?? '', /not ready in time/);
    assert.equal(a.startSlotsInUse, 0);
  } finally {
    a.close();
    await rt.close();
  }
});
