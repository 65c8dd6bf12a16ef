// A spec the runtime can never run (Swarm: input.as file, privileged, the host's network or
// PIDs) is refused at apply, at its field, rather than stored to fail at every wake.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Activator } from '../../src/activator/activator.js';
import { buildConfig } from '../../src/config/load-config.js';
import { PolicyError, SpecError } from '../../src/errors.js';
import { AppService } from '../../src/gateway/app-service.js';
import { DesiredIndex } from '../../src/gateway/desired-index.js';
import { StateEvents } from '../../src/gateway/state-events.js';
import type { Runtime } from '../../src/runtime/runtime.js';
import { swarmIssue } from '../../src/runtime/swarm/service-spec.js';
import type { AppSpec } from '../../src/spec/types.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { appSpec } from '../support/spec-fixture.js';

it('an apply of what the Swarm runtime cannot run is refused (422) at the field, and stores nothing', async () => {
  const store = new SqliteStore({ path: ':memory:' });
  await store.open();
  // SwarmRuntime's answer (swarmIssue, pure): the file needs no engine, and runs beside the engine lane.
  const specIssues = (app: AppSpec) => [swarmIssue(app)].filter((issue) => issue !== undefined);
  const runtime = { ping: async () => undefined, imagePorts: async () => [8080], specIssues } as unknown as Runtime;
  const config = await buildConfig({ listen: '127.0.0.1:0', admin: '127.0.0.1:0', store: ':memory:', policy: { images: ['berth-test/*'] } }, '/tmp');
  let changed = 0;
  const service = new AppService({
    store,
    runtime,
    activator: { controller: () => undefined, lastErrors: new Map(), status: () => undefined } as unknown as Activator,
    events: new StateEvents(),
    config: () => config,
    serialize: (change) => change(),
    desired: new DesiredIndex(),
    desiredChanged: async () => void changed++,
  });
  try {
    const asFile = appSpec('web', { image: 'berth-test/app:latest', input: { json: '{"a":1}', as: 'file', env: 'BERTH_INPUT', path: '/run/berth/input.json' } });
    await assert.rejects(service.apply([asFile]), (err: unknown) => {
      assert.ok(err instanceof SpecError, String(err));
      assert.deepEqual(err.problems.map((p) => p.path), ['request body: input.as']);
      assert.match(err.message, /input.as file is not supported on Swarm/);
      return true;
    });
    assert.equal(await store.getApp('web'), undefined, 'nothing stored');
    assert.equal(changed, 0, 'nothing made');
    // What the policy denies is denied as on one engine (403), before the runtime is asked.
    const privileged = appSpec('web', { image: 'berth-test/app:latest', security: { privileged: true, capAdd: [], hostNetwork: false, hostPid: false } });
    await assert.rejects(service.apply([privileged]), (err: unknown) => err instanceof PolicyError);
    // The same app delivered another way is applied.
    const [result] = await service.apply([{ ...asFile, input: { ...asFile.input!, as: 'env' } }]);
    assert.equal(result?.action, 'created');
  } finally {
    await store.close();
  }
});
