import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeRuntime } from '../support/fake-runtime.js';
import { eventually, fakeActivator, fakeSpec } from '../support/fake-activator.js';

test('gateway restart: more running instances than the replica count (killed mid scale-down) are drained down to it', async () => {
  const rt = new FakeRuntime();
  const first = fakeActivator(rt);
  const second = fakeActivator(rt);
  try {
    await first.reconcile([fakeSpec('web', { scale: { min: 0, max: 3, replicas: 2 } })]);
    await first.acquire('web');
    await eventually('two instances up', () => rt.running('web').length === 2);
    first.close();
    // The scale-down to 1 was stored; the gateway died before it retired the second instance.
    await second.reconcile([fakeSpec('web', { scale: { min: 0, max: 3, replicas: 1 } })]);
    assert.equal(second.status('web')?.state, 'running');
    assert.equal(second.status('web')?.replicas, 1);
    await eventually('the extra instance is retired', () => rt.running('web').length === 1 && second.status('web')?.readyInstances === 1, 5_000);
    assert.equal(rt.running('web')[0]!.index, 0, 'the lowest index stays');
  } finally {
    first.close();
    second.close();
    await rt.close();
  }
});
