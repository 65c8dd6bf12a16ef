// DELETE ?purgeVolumes=true of an app that has no container left (removeAfter took it, or it
// went while the delete ran): the volume went with a container's remove only, so it stayed,
// and a spawner creating the app again under the same name handed the new one the old data.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeGatewayBed } from '../support/fake-gateway.js';
import { waitFor } from '../support/wait-for.js';

const spec = (name: string) => ({ apiVersion: 'berth/v1', name, image: `fake/${name}:1`, port: 8080, volume: '/data', readiness: { path: '/healthz' } });

describe('a delete with purgeVolumes of an app without a container', () => {
  it('removes the volume; a delete without purgeVolumes keeps it', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const runtime = bed.runtime;
    const gateway = await bed.start();
    const containersOf = (app: string) => [...runtime.containers.values()].filter((c) => c.instance.app === app).map((c) => c.instance.id);
    for (const name of ['kept', 'purged']) {
      assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec(name))).status, 200);
      const ids = await waitFor(`${name}'s container made ahead of its first request`, () => containersOf(name).length === 1 && containersOf(name), { timeoutMs: 5_000 });
      // What removeAfter does to a long-stopped app: the container goes, the volume stays.
      await runtime.remove(ids[0]!);
    }
    assert.equal((await bed.api(gateway, 'DELETE', '/v1/apps/kept')).status, 200);
    assert.equal((await bed.api(gateway, 'DELETE', '/v1/apps/purged?purgeVolumes=true')).status, 200);
    assert.deepEqual(runtime.purgedVolumes, ['purged']);
  });
});
