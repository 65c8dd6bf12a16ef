// Several gateways: a cold start lets its app's lease go once its container runs. A
// container removed after that is as likely the leader's removal of the app deleted
// meanwhile (under the lease, before this gateway heard of it) as a docker rm -f; made
// again outside the lease, it ran on with no app behind it. The start fails instead,
// and the next one makes the container under the lease. With no lease (one gateway)
// the start still makes it anew (start-watch.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AppLease } from '../../src/activator/app-controller.js';
import { eventually, fakeActivator, fakeSpec } from '../support/fake-activator.js';
import { FakeRuntime } from '../support/fake-runtime.js';

test('a container removed after its start let the lease go is not made again outside the lease; the next start makes it under the lease', async () => {
  const rt = new FakeRuntime();
  rt.behave('web', { readyAfterMs: 400 });
  let holding = false;
  const lease: AppLease = async (_app, _waitMs, work) => {
    holding = true;
    try {
      return await work(() => (holding = false));
    } finally {
      holding = false;
    }
  };
  const made: boolean[] = [];
  const ensure = rt.ensure.bind(rt);
  rt.ensure = (spec, index) => (made.push(holding), ensure(spec, index));
  const a = fakeActivator(rt, { lease });
  try {
    await a.reconcile([fakeSpec('web', { startTimeout: '30s' })]);
    // The reconcile may create the container ahead (no start): only the starts' creates count here.
    made.length = 0;
    const up = a.acquire('web');
    await eventually('its container runs (not yet ready)', () => rt.running('web').length === 1, 2_000);
    assert.equal(holding, false, 'the lease is let go once the container runs');
    await rt.outsideRemove(rt.running('web')[0]!.id);
    await assert.rejects(up, /disappeared/);
    assert.equal(rt.containers.size, 0, 'no container made outside the lease');
    await a.acquire('web');
    assert.ok(made.length >= 1 && made.every((underLease) => underLease), `every container a start made was made under the lease (${JSON.stringify(made)})`);
    assert.equal(rt.running('web').length, 1);
  } finally {
    a.close();
    await rt.close();
  }
});
