/**
 * Passive health: an instance the proxy cannot reach three times in a row is taken out and
 * restarted. Like the active checks, one instance of an app at a time: when every instance
 * refuses at once (the app overloaded, its accept queue full) they were all restarted
 * together and the app served nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Upstream } from '../../src/proxy/upstream.js';
import { eventually, fakeActivator, fakeSpec } from '../support/fake-activator.js';
import { FakeRuntime } from '../support/fake-runtime.js';

test('passive ejection: two instances refusing together are restarted one at a time, the other serving meanwhile', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web', { scale: { min: 2 }, startTimeout: '10s' })]);
    await eventually('two instances ready', () => a.status('web')?.readyInstances === 2);
    const seen = new Map<string, Upstream>();
    for (let i = 0; i < 10 && seen.size < 2; i++) {
      const u = await a.acquire('web');
      seen.set(u.instanceId, u);
    }
    assert.equal(seen.size, 2);
    // The restarted instance takes a while to get ready again.
    rt.behave('web', { readyAfterMs: 1_500 });
    const stopsBefore = rt.calls.stop;
    for (const u of seen.values()) u.failures = 3;
    const answers = await Promise.all([...seen.keys()].map((id) => a.unreachable('web', id)));
    assert.deepEqual(answers, [false, false], 'neither is gone: both still run');
    await eventually('one restart under way', () => rt.calls.stop === stopsBefore + 1);
    assert.equal(a.status('web')?.readyInstances, 1, 'one instance is out, the other still serves');
    const served = await a.acquire('web');
    assert.ok(seen.has(served.instanceId), 'served by the instance left in rotation');
    assert.equal(rt.calls.stop, stopsBefore + 1, 'the second was held back while the first is out');
    // Once the first is back, the second (still failing) goes at its next failure.
    await eventually('the first back in rotation', () => a.status('web')?.readyInstances === 2, 5_000);
    const held = [...seen.values()].find((u) => u.instanceId === served.instanceId)!;
    held.failures = 3;
    assert.equal(await a.unreachable('web', held.instanceId), false);
    await eventually('the second restarted now', () => rt.calls.stop === stopsBefore + 2);
  } finally {
    a.close();
    await rt.close();
  }
});
