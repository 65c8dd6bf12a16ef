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
