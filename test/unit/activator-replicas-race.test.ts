import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeRuntime, sleep } from '../support/fake-runtime.js';
import { eventually, fakeActivator, fakeSpec } from '../support/fake-activator.js';

test('scale down while the other replicas are still starting: they do not join past the new count', async () => {
  const rt = new FakeRuntime();
  rt.behave('web', { readyAfterMs: 300 });
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web', { scale: { min: 0, max: 3, replicas: 3 } })]);
    await a.acquire('web');
    // The two other replicas are starting in the background now.
    await a.controller('web')!.setReplicas(1);
    await sleep(1_000);
    assert.equal(a.status('web')?.replicas, 1);
    assert.equal(a.status('web')?.readyInstances, 1);
    await eventually('the late replicas are stopped', () => rt.running('web').length === 1);
  } finally {
    a.close();
    await rt.close();
  }
});
