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

test('the engine’s late pause event of berth’s own idle pause, after a wake, leaves the woken app running and in rotation', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    // Long enough that the woken app is not paused again, for idleness, while the test looks (a loaded machine).
    await a.reconcile([fakeSpec('web', { idleAction: 'pause', idleTimeout: '1s' })]);
    const first = await a.acquire('web');
    rt.heldKinds.add('pause');
    await waitForState(a, 'web', 'paused', 5_000);
    // Woken before the engine's event stream tells of the pause.
    const again = await a.acquire('web');
    assert.equal(again.instanceId, first.instanceId, 'thawed, not replaced');
    rt.releaseHeldEvents();
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(a.status('web')?.state, 'running');
    assert.equal(a.status('web')?.reason, undefined);
    const third = await a.acquire('web');
    assert.equal(third.instanceId, first.instanceId, 'still in rotation');
    // A pause that does happen later, behind berth's back, still counts.
    rt.heldKinds.clear();
    await new Promise((resolve) => setTimeout(resolve, 2));
    await rt.outsidePause(first.instanceId);
    await waitForState(a, 'web', 'paused', 5_000);
    assert.equal(a.status('web')?.reason, 'its container was paused outside berth');
  } finally {
    a.close();
    await rt.close();
  }
});

test('idleAction: pause on a runtime that cannot freeze (no unpause: Swarm) stops the app, which reads stopped', async () => {
  const rt = new FakeRuntime();
  // As SwarmRuntime: its pause is a scale to 0, and it leaves unpause out.
  Object.defineProperty(rt, 'unpause', { value: undefined });
  const a = fakeActivator(rt, { resyncEveryMs: 100 });
  try {
    await a.reconcile([fakeSpec('web', { idleAction: 'pause', idleTimeout: '200ms' })]);
    await a.acquire('web');
    await waitForState(a, 'web', 'stopped', 5_000);
    assert.equal(rt.calls.pause, 0, 'not paused: stopped');
    assert.ok(rt.calls.stop >= 1);
    await a.acquire('web');
    assert.equal(a.status('web')?.state, 'running', 'the next request wakes it');
  } finally {
    a.close();
    await rt.close();
  }
});
