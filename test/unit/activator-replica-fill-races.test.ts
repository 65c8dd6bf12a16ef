import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeRuntime } from '../support/fake-runtime.js';
import { eventually, fakeActivator, fakeSpec } from '../support/fake-activator.js';

/**
 * The other replicas of a cold start are filled in the background. A change
 * that landed while the first instance started (found by the model test: an
 * update, or a second scale change) started the same containers beside that
 * fill: one container started twice at once, held by two slots, so the app
 * counted more ready instances than ran.
 */
const cases = [
  { what: 'an update applied while the app cold-starts', change: 'update' },
  { what: 'a scale change made while the app cold-starts', change: 'scale' },
] as const;

for (const c of cases) {
  test(`the replica fill and ${c.what} never start one container twice`, async () => {
    const rt = new FakeRuntime();
    const a = fakeActivator(rt);
    const spec = (image: string, replicas?: number) => fakeSpec('web', { image, scale: { min: 0, max: 3, ...(replicas === undefined ? {} : { replicas }) } });
    try {
      await a.reconcile([spec('fake/app:1')]);
      await a.controller('web')!.setReplicas(c.change === 'scale' ? 2 : 3);
      const answered = a.acquire('web');
      // The update keeps the count set: a changed spec drops a scaled count (as the store does), so the gateway
      // passes a count it keeps in the spec's scale.replicas (desiredSpecs).
      if (c.change === 'update') await a.reconcile([spec('fake/app:2', 3)]).catch(() => undefined);
      else await a.controller('web')!.setReplicas(3);
      await answered;
      await eventually('three instances ready', () => a.status('web')?.readyInstances === 3 && rt.running('web').length === 3, 5_000);
      assert.deepEqual(rt.doubleStarts, []);
      assert.equal(a.controller('web')!.slotUpstreams.length, new Set(a.controller('web')!.slotUpstreams.map((u) => u.instanceId)).size, 'one slot per container');
    } finally {
      a.close();
      await rt.close();
    }
  });
}
