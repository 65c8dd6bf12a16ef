// The policy is applied before the engine hears of a spec: a spec that names no port
// had its image inspected for its EXPOSEd port first, even an image the policy denies,
// and the answer ("not on the Docker host" or a port) told whether it was there.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Activator } from '../../src/activator/activator.js';
import { buildConfig } from '../../src/config/load-config.js';
import { PolicyError } from '../../src/errors.js';
import { AppService } from '../../src/gateway/app-service.js';
import { DesiredIndex } from '../../src/gateway/desired-index.js';
import { StateEvents } from '../../src/gateway/state-events.js';
import type { Runtime } from '../../src/runtime/runtime.js';
import { PORT_FROM_IMAGE } from '../../src/spec/types.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { appSpec } from '../support/spec-fixture.js';

describe('apply: the policy before the engine', () => {
  it('refuses a denied image without asking the engine about it; an allowed one is read', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    await store.open();
    const asked: string[] = [];
    const runtime = { ping: async () => undefined, imagePorts: async (image: string) => (asked.push(image), [8080]) } as unknown as Runtime;
    const config = await buildConfig({ listen: '127.0.0.1:0', admin: '127.0.0.1:0', store: ':memory:', policy: { images: ['berth-test/*'] } }, '/tmp');
    const desired = new DesiredIndex();
    const service = new AppService({
      store,
      runtime,
      activator: { controller: () => undefined, lastErrors: new Map(), status: () => undefined } as unknown as Activator,
      events: new StateEvents(),
      config: () => config,
      serialize: (change) => change(),
      desired,
      desiredChanged: async () => undefined,
    });
    try {
      await assert.rejects(service.apply([appSpec('probe', { image: 'busybox:latest', port: PORT_FROM_IMAGE })], { dryRun: true }), (err: unknown) => {
        assert.ok(err instanceof PolicyError, String(err));
        assert.match(err.message, /image "busybox:latest" of app "probe" is not allowed by policy\.images \(berth-test\/\*\)/);
        return true;
      });
      assert.deepEqual(asked, [], 'the engine was asked about a denied image');
      const [result] = await service.apply([appSpec('web', { image: 'berth-test/app:latest', port: PORT_FROM_IMAGE })], { dryRun: true });
      assert.equal(result?.action, 'created');
      assert.deepEqual(asked, ['berth-test/app:latest']);
    } finally {
      await store.close();
    }
  });
});
