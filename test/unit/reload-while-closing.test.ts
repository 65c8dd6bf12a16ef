// A reload that comes once the gateway is stopping (a SIGHUP or a config-management
// push racing systemd's stop): it used to load the new file, write it to the store and
// reconcile, starting the containers of newly added always-on apps while the operator
// was stopping the gateway, or failing on the store the stop had just closed. It is
// refused, saying why, and nothing in the store or the engine changes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openStore } from '../../src/store/open-store.js';
import { FakeGatewayBed } from '../support/fake-gateway.js';

const HEAD = 'listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nstore: ./berth.db\npolicy:\n  images: ["fake/*"]\n';
const app = (name: string) => `  - {apiVersion: berth/v1, name: ${name}, image: "fake/${name}:1", port: 8080, readiness: {path: /healthz}, scale: {min: 1, max: 1}}\n`;

describe('a reload while the gateway is stopping', () => {
  it('is refused as shutting down; no app is added to the store and no container is made', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    await writeFile(join(bed.dir, 'berth.yaml'), `${HEAD}apps:\n${app('web')}`);
    const gateway = await bed.start();
    await writeFile(join(bed.dir, 'berth.yaml'), `${HEAD}apps:\n${app('web')}${app('late')}`);

    const closing = bed.stop(gateway);
    const outcome = await gateway.reload();
    await closing;

    assert.equal(outcome.applied, false);
    assert.match(outcome.error ?? '', /shutting down/);
    assert.equal([...bed.runtime.containers.values()].some((c) => c.instance.app === 'late'), false, 'no container was made for the new app');
    const store = await openStore(bed.storePath);
    try {
      assert.deepEqual((await store.listApps()).map((a) => a.name), ['web']);
    } finally {
      await store.close();
    }
  });
});
