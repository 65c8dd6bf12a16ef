// A reload that removes an app while the engine is down: the outcome says the
// removal is pending, a `deleted` event is sent (the app is no longer declared,
// routed or listed), and once the engine answers again the app's containers go
// and its tombstone is dropped, with no further reload or API call.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GatewayEvent } from '../../src/gateway/state-events.js';
import { openStore } from '../../src/store/open-store.js';
import { FakeGatewayBed } from '../support/fake-gateway.js';
import { eventually } from '../support/fake-activator.js';

const HEAD = 'listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nstore: ./berth.db\npolicy:\n  images: ["fake/*"]\n';
const app = (name: string) => `  - {apiVersion: berth/v1, name: ${name}, image: "fake/${name}:1", port: 8080, readiness: {path: /healthz}, scale: {min: 1, max: 1}}\n`;

describe('a reload that removes an app while the engine is down', () => {
  it('says the removal is pending, tells `deleted`, and removes the containers once the engine is back', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    await writeFile(join(bed.dir, 'berth.yaml'), `${HEAD}apps:\n${app('web')}${app('shop')}`);
    const gateway = await bed.start();
    await eventually('both apps run', () => bed.runtime.running('web').length === 1 && bed.runtime.running('shop').length === 1, 5_000);
    const events: GatewayEvent[] = [];
    const unsubscribe = gateway.events.subscribe((e) => events.push(e));
    t.after(unsubscribe);

    bed.runtime.engineDown = true;
    await writeFile(join(bed.dir, 'berth.yaml'), `${HEAD}apps:\n${app('shop')}`);
    const outcome = await gateway.reload();
    assert.equal(outcome.applied, true);
    assert.ok(outcome.error, 'the engine failure is told');
    assert.deepEqual(outcome.removalsPending, ['web']);
    assert.ok(events.some((e) => e.type === 'deleted' && e.app === 'web'), 'a deleted event was sent for web');
    assert.equal(gateway.statuses().some((s) => s.name === 'web'), false, 'web is no longer shown as declared');
    const listed = await bed.api(gateway, 'GET', '/v1/apps');
    assert.deepEqual(listed.json.apps.map((a: { name: string }) => a.name), ['shop']);

    bed.runtime.engineDown = false;
    await eventually('web\'s container is removed without another reload', () => [...bed.runtime.containers.values()].every((c) => c.instance.app !== 'web'), 10_000);
    assert.equal(bed.runtime.running('shop').length, 1, 'shop runs on');
    await bed.stop(gateway);
    const store = await openStore(bed.storePath);
    try {
      assert.deepEqual(await store.listDeleted(), [], 'the tombstone was dropped');
    } finally {
      await store.close();
    }
  });
});
