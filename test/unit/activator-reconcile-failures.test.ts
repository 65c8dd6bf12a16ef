import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RuntimeError } from '../../src/errors.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { fakeActivator, fakeSpec } from '../support/fake-activator.js';

test('reconcile: an app whose stale container cannot be removed is still declared, shows failed with the reason, and starts on the next request', async () => {
  const rt = new FakeRuntime();
  // A container of an older revision, left by the previous gateway.
  const stale = await rt.outsideCreate(fakeSpec('web', { image: 'fake/app:0' }), 0, false);
  const remove = rt.remove.bind(rt);
  let refusals = 1;
  rt.remove = async (id: string) => {
    if (id === stale && refusals-- > 0) throw new RuntimeError('removing container berth-web-0: the engine timed out');
    return remove(id);
  };
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web')]);
    const status = a.status('web');
    assert.ok(status, 'the app has a controller: it is routed, not "not declared"');
    assert.equal(status.state, 'failed');
    assert.match(status.lastError ?? '', /engine timed out/);
    await a.acquire('web');
    assert.equal(a.status('web')?.state, 'running');
    assert.equal(rt.containers.has(stale), false, 'the stale container was replaced');
  } finally {
    a.close();
    await rt.close();
  }
});
