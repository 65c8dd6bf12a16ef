import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeRuntime } from '../support/fake-runtime.js';
import { fakeActivator, fakeSpec, waitForState } from '../support/fake-activator.js';

/** A state the app reached by itself says what happened, as one berth chose says why. */

test('reason: an app whose container exited by itself says so, with the code; a later start clears it', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web')]);
    let up = await a.acquire('web');
    await rt.outsideStop(up.instanceId);
    await waitForState(a, 'web', 'stopped');
    assert.equal(a.status('web')?.reason, 'its container exited by itself with code 0');
    assert.equal(a.status('web')?.lastError, undefined, 'a clean exit is no error');
    up = await a.acquire('web');
    assert.equal(a.status('web')?.reason, undefined);
    await rt.outsideKill(up.instanceId, 137);
    await waitForState(a, 'web', 'stopped');
    assert.equal(a.status('web')?.reason, 'its container exited by itself with code 137');
  } finally {
    a.close();
    await rt.close();
  }
});

test('reason: an app whose last serving container was paused behind berth’s back says so', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web')]);
    const up = await a.acquire('web');
    await rt.outsidePause(up.instanceId);
    await waitForState(a, 'web', 'paused');
    assert.equal(a.status('web')?.reason, 'its container was paused outside berth');
  } finally {
    a.close();
    await rt.close();
  }
});

test('reason: an app that ignores SIGTERM is killed at its idle stop, and the reason says so after "idle"; one that exits adds nothing', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    rt.behave('stubborn', { ignoresSigterm: true });
    await a.reconcile([fakeSpec('stubborn', { idleTimeout: '100ms' }), fakeSpec('polite', { idleTimeout: '100ms' })]);
    await a.acquire('stubborn');
    await a.acquire('polite');
    await waitForState(a, 'stubborn', 'stopped', 5_000);
    await waitForState(a, 'polite', 'stopped', 5_000);
    assert.equal(
      a.status('stubborn')?.reason,
      'idle; its container berth-stubborn-0 did not exit within 10 s of SIGTERM and was killed; the app should exit when it gets SIGTERM',
    );
    // The engine's kill events of berth's own stop do not make it read as a stop from outside.
    assert.equal(a.status('stubborn')?.lastError, undefined);
    assert.equal(a.status('polite')?.reason, 'idle');
  } finally {
    a.close();
    await rt.close();
  }
});

test('reason: docker kill from outside, again and again soon after each start, is no crash loop and no error: each next request starts the app', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web')]);
    for (let round = 0; round < 6; round++) {
      const up = await a.acquire('web');
      await rt.outsideSignal(up.instanceId, 9, 137);
      await waitForState(a, 'web', 'stopped');
      assert.match(a.status('web')?.reason ?? '', /137/, `round ${round}: the reason tells the exit`);
      assert.equal(a.status('web')?.lastError, undefined, `round ${round}: the app did not fail`);
    }
    await a.acquire('web');
    assert.equal(a.status('web')?.state, 'running');
    // An exit the app made by itself, with no signal from outside, still counts.
    const up = await a.acquire('web');
    await rt.outsideKill(up.instanceId, 3);
    await waitForState(a, 'web', 'stopped');
    assert.equal(a.status('web')?.lastError, 'the container exited with code 3');
  } finally {
    a.close();
    await rt.close();
  }
});
