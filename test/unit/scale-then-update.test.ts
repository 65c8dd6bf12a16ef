// A count set by `berth scale` is kept in the store until the app's spec changes (README, Replicas): an update
// of the spec drops it there, so the app running on must drop it too, or it runs the scaled count until the
// next restart and then the spec's, and the API shows a count no restart keeps.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeGatewayBed } from '../support/fake-gateway.js';

const spec = (tag: string) => ({ apiVersion: 'berth/v1', name: 'web', image: `fake/web:${tag}`, port: 8080, readiness: { path: '/healthz' }, scale: { min: 0, max: 3 } });

describe('a scaled count and an update of the spec', () => {
  it('an update after a scale runs the count the store keeps (the spec\'s), as a restart would', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec('1'))).status, 200);
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps/web/scale', { replicas: 3 })).status, 200);
    assert.equal(gateway.statuses().find((s) => s.name === 'web')?.replicas, 3);
    const updated = await bed.api(gateway, 'POST', '/v1/apps', spec('2'));
    assert.equal(updated.status, 200, JSON.stringify(updated.json));
    assert.equal(updated.json.results[0].action, 'updated');
    const stored = await bed.api(gateway, 'GET', '/v1/apps/web');
    assert.equal(stored.json.replicas, undefined, 'the store dropped the scaled count');
    assert.equal(gateway.statuses().find((s) => s.name === 'web')?.replicas, 1, 'the running app runs the spec\'s count, as after a restart');
    await bed.stop(gateway);
    const again = await bed.start();
    assert.equal(again.statuses().find((s) => s.name === 'web')?.replicas, 1);
  });
});
