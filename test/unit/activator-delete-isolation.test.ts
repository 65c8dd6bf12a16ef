import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeRuntime } from '../support/fake-runtime.js';
import { eventually, fakeActivator, fakeSpec } from '../support/fake-activator.js';

/**
 * Apps deleted together (a reload that drops several, a delete retried with its
 * tombstones) are stopped side by side: one app's slow stop (a request it drains,
 * a container that ignores SIGTERM to the end of its grace) must not hold the others'.
 */
test("deleting several apps: one app's drawn-out stop does not hold the others'", async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('slow'), fakeSpec('quick')]);
    await a.acquire('slow');
    await a.acquire('quick');
    // A request in flight on `slow`: its stop drains it first (up to the drain bound).
    a.began('slow');
    let deleted = false;
    const deleting = a.reconcile([], ['slow', 'quick']).then(() => (deleted = true));
    const quickGone = () => ![...rt.containers.values()].some((c) => c.instance.app === 'quick' && c.instance.state === 'running');
    await eventually("quick's container stopped while slow still drains", quickGone);
    assert.equal(deleted, false, 'the delete itself waits for slow');
    a.ended('slow');
    await deleting;
    assert.equal(rt.containers.size, 0, 'both apps’ containers are removed');
  } finally {
    a.close();
    await rt.close();
  }
});

test('deleting several apps: one whose stop the engine refuses neither fails the change nor cuts short the others', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  const stop = rt.stop.bind(rt);
  rt.stop = async (id) => {
    if (rt.containers.get(id)?.instance.app === 'bad') throw new Error('the engine refused the stop');
    return stop(id);
  };
  try {
    await a.reconcile([fakeSpec('slow'), fakeSpec('bad')]);
    await a.acquire('slow');
    await a.acquire('bad');
    a.began('slow');
    let outcome: 'pending' | 'failed' | 'done' = 'pending';
    const deleting = a.reconcile([], ['slow', 'bad']).then(
      () => (outcome = 'done'),
      () => (outcome = 'failed'),
    );
    await eventually('slow to be draining', () => a.status('slow') === undefined || rt.calls.stop > 0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(outcome, 'pending', "the change waits for slow's stop, whatever bad's did");
    a.ended('slow');
    await deleting;
    assert.equal(outcome, 'done', "a refused stop is the controller's to retry, not the change's failure");
    assert.ok(![...rt.containers.values()].some((c) => c.instance.app === 'slow' && c.instance.state === 'running'), "slow's container was stopped");
  } finally {
    a.close();
    await rt.close();
  }
});
