import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeRuntime } from '../support/fake-runtime.js';
import { fakeActivator, fakeSpec, waitForState } from '../support/fake-activator.js';

for (const eventsLost of [false, true]) {
  test(`a paused app whose container is killed behind berth's back shows stopped, not paused (${eventsLost ? 'event lost: resync' : 'engine event'})`, async () => {
    const rt = new FakeRuntime();
    const a = fakeActivator(rt, { resyncEveryMs: 100 });
    try {
      await a.reconcile([fakeSpec('web', { idleAction: 'pause', idleTimeout: '200ms' })]);
      const up = await a.acquire('web');
      await waitForState(a, 'web', 'paused');
      rt.eventsLost = eventsLost;
      await rt.outsideKill(up.instanceId, 137);
      await waitForState(a, 'web', 'stopped');
      assert.equal(a.status('web')?.reason, 'its container exited by itself with code 137');
      rt.eventsLost = false;
      await a.acquire('web');
      assert.equal(a.status('web')?.state, 'running');
    } finally {
      a.close();
      await rt.close();
    }
  });
}
