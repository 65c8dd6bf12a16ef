// An app stopped by a signal from outside berth (docker stop, kill, restart) must not
// read as one whose container exited by itself: an app that exits on SIGTERM says
// code 0, which alone reads as a clean exit of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endedReason, SignalBook, SIGNAL_COUNTS_FOR_MS } from '../../src/activator/ended-reason.js';
import { toRuntimeEvent } from '../../src/runtime/docker/event-mapping.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { fakeActivator, fakeSpec, waitForState } from '../support/fake-activator.js';

const REASONS: Array<[number | undefined, number | undefined, string]> = [
  [undefined, undefined, 'its container is gone'],
  [undefined, 15, 'its container is gone'],
  [0, undefined, 'its container exited by itself with code 0'],
  [3, undefined, 'its container exited by itself with code 3'],
  [0, 15, 'its container was sent signal 15 outside berth (docker stop, kill or restart) and exited with code 0'],
  [137, 9, 'its container was sent signal 9 outside berth (docker stop, kill or restart) and exited with code 137'],
];
for (const [code, signal, want] of REASONS) {
  test(`endedReason(${code}, ${signal})`, () => assert.equal(endedReason(code, signal), want));
}

test('SignalBook: a signal counts for the exit soon after it, once; a stale one, or one of a removed container, does not', () => {
  const book = new SignalBook();
  book.note('a', 15, 1_000);
  assert.equal(book.take('a', 1_500), 15);
  assert.equal(book.take('a', 1_600), undefined, 'taken by its exit');
  book.note('b', 1, 1_000);
  assert.equal(book.take('b', 1_000 + SIGNAL_COUNTS_FOR_MS + 1), undefined, 'a signal the app shrugged off long ago');
  book.note('c', 9, 1_000);
  book.forget('c');
  assert.equal(book.take('c', 1_001), undefined);
});

test('toRuntimeEvent: a kill event carries its signal', () => {
  const msg = (signal?: string) => ({ Type: 'container', Action: 'kill', Actor: { ID: 'c1', Attributes: { 'berth.managed': 'true', 'berth.app': 'web', ...(signal ? { signal } : {}) } }, time: 1 });
  assert.deepEqual(toRuntimeEvent(msg('15')), { kind: 'kill', app: 'web', instanceId: 'c1', time: new Date(1_000), signal: 15 });
  assert.equal(toRuntimeEvent(msg()), undefined, 'no signal: nothing to tell');
  assert.equal(toRuntimeEvent(msg('TERM')), undefined);
});

test('a docker stop of a serving app (SIGTERM, exit 0) shows stopped with the signal as its reason, not as an exit of its own', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web')]);
    let up = await a.acquire('web');
    await rt.outsideSignal(up.instanceId, 15, 0);
    await waitForState(a, 'web', 'stopped');
    assert.equal(a.status('web')?.reason, 'its container was sent signal 15 outside berth (docker stop, kill or restart) and exited with code 0');
    // The next exit without a signal is the app's own again.
    up = await a.acquire('web');
    await rt.outsideKill(up.instanceId, 3);
    await waitForState(a, 'web', 'stopped');
    assert.equal(a.status('web')?.reason, 'its container exited by itself with code 3');
  } finally {
    a.close();
    await rt.close();
  }
});

test('berth’s own idle stop (its SIGTERM) leaves no signal to blame a later exit of the app’s own on', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web', { idleTimeout: '200ms' })]);
    const up = await a.acquire('web');
    await waitForState(a, 'web', 'stopped');
    assert.equal(a.status('web')?.reason, 'idle');
    const again = await a.acquire('web');
    assert.equal(again.instanceId, up.instanceId);
    await rt.outsideKill(again.instanceId, 1);
    await waitForState(a, 'web', 'stopped');
    assert.equal(a.status('web')?.reason, 'its container exited by itself with code 1');
  } finally {
    a.close();
    await rt.close();
  }
});
