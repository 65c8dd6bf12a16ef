import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { DEFAULT_STOP_RETRY, shouldLogStopFailure, StopRetry, stopRetryDelayMs } from '../../src/activator/stop-retry.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { eventually, fakeActivator, fakeSpec, waitForState } from '../support/fake-activator.js';

/**
 * A stop the engine did not carry out was tried again every second, for ever,
 * with a warning each time: an engine failing for hours got a stop call a
 * second from every app it left up, and the log a line a second from each.
 * The tries now back off (1 s doubling to 30 s, reset when a stop succeeds or
 * the app starts), the failure is logged when it is new, and the app's status
 * (lastError) says why meanwhile.
 */

test('the wait between tries doubles from 1 s up to 30 s', () => {
  const waits = [1, 2, 3, 4, 5, 6, 7, 100, 10_000_000].map((n) => stopRetryDelayMs(n, DEFAULT_STOP_RETRY));
  assert.deepEqual(waits, [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000, 30_000]);
});

test('a failure is logged when it is new: the first, a changed reason, or the same one after logEveryMs', () => {
  const every = 300_000;
  assert.equal(shouldLogStopFailure(undefined, 'down', 0, every), true);
  assert.equal(shouldLogStopFailure({ reason: 'down', atMs: 0 }, 'down', 1_000, every), false);
  assert.equal(shouldLogStopFailure({ reason: 'down', atMs: 0 }, 'refused', 1_000, every), true);
  assert.equal(shouldLogStopFailure({ reason: 'down', atMs: 0 }, 'down', every, every), true);
});

test('StopRetry counts rounds for the backoff and starts over after a reset', () => {
  let now = 0;
  const r = new StopRetry(DEFAULT_STOP_RETRY, () => now);
  assert.equal(r.retrying, false);
  assert.equal(r.failed('down'), true);
  assert.equal(r.nextDelayMs(), 1_000);
  now += 1_000;
  assert.equal(r.failed('down'), false, 'the same reason a second later is not news');
  assert.equal(r.nextDelayMs(), 2_000);
  assert.equal(r.retrying, true);
  now += 5 * 60_000;
  assert.equal(r.failed('down'), true, 'logged again after five minutes');
  r.reset();
  assert.equal(r.retrying, false);
  assert.equal(r.failed('down'), true, 'after a success the next failure is news again');
  assert.equal(r.nextDelayMs(), 1_000);
});

test('an engine that keeps refusing a stop gets backed-off tries, one log line, and the status says why until the stop is carried out', async () => {
  const rt = new FakeRuntime();
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  const a = fakeActivator(rt, { logger, stopRetry: { firstMs: 50, maxMs: 200, logEveryMs: 600_000 } });
  const tries: number[] = [];
  const stop = rt.stop.bind(rt);
  rt.stop = (id: string) => {
    tries.push(performance.now());
    return stop(id);
  };
  const warnings = () => lines.filter((l) => l.includes('stop failed')).length;
  try {
    await a.reconcile([fakeSpec('web')]);
    await a.acquire('web');
    rt.engineDown = true;
    await a.controller('web')!.stop('stopped by the API', 0);
    await waitForState(a, 'web', 'stopped');
    await eventually('the stop is tried five times', () => tries.length >= 5, 10_000);
    assert.equal(warnings(), 1, `one warning for one unchanged failure, not one per try:\n${lines.join('')}`);
    // Waits of 50, 100, 200, 200 ms: a timer fires no earlier than asked (a ms of rounding aside).
    const gaps = tries.slice(1, 5).map((t, i) => t - tries[i]!);
    assert.ok(gaps[2]! >= 190 && gaps[3]! >= 190, `the tries back off to maxMs: ${gaps.map(Math.round).join(', ')}`);
    assert.match(a.status('web')?.lastError ?? '', /the engine did not stop its container .*did not answer/);
    assert.equal(a.status('web')?.state, 'stopped');

    rt.engineDown = false;
    await eventually('the container is stopped once the engine answers', () => rt.running('web').length === 0, 5_000);
    await eventually('the status no longer shows the failure', () => a.status('web')?.lastError === undefined);
    assert.ok(lines.some((l) => l.includes('a stop that had failed was carried out')));

    // A success reset the backoff and the log: the next outage is news again.
    await a.acquire('web');
    rt.engineDown = true;
    await a.controller('web')!.stop('stopped by the API', 0);
    await eventually('the new failure is logged', () => warnings() === 2);
  } finally {
    a.close();
    rt.engineDown = false;
    await rt.close();
  }
});
