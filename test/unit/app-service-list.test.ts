import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Activator } from '../../src/activator/activator.js';
import { AppService, LIST_ENGINE_WAIT_MS, type AppServiceDeps } from '../../src/gateway/app-service.js';
import type { Runtime } from '../../src/runtime/runtime.js';
import type { Store, StoredApp } from '../../src/store/store.js';

test('the app list answers without instances when the engine does not answer, instead of waiting on it', async () => {
  const app = { name: 'hello' } as StoredApp;
  const deps = {
    store: { listApps: () => Promise.resolve([app]) } as unknown as Store,
    runtime: { list: () => new Promise(() => undefined) } as unknown as Runtime, // a silent engine
    activator: { status: () => undefined } as unknown as Activator,
  } as unknown as AppServiceDeps;
  const started = Date.now();
  const list = await new AppService(deps).list();
  const tookMs = Date.now() - started;
  assert.deepEqual(list, [{ app, status: undefined, instances: [], instancesError: `the Docker engine did not list the containers within ${LIST_ENGINE_WAIT_MS} ms` }]);
  assert.ok(tookMs >= LIST_ENGINE_WAIT_MS - 50 && tookMs < LIST_ENGINE_WAIT_MS + 1000, `took ${tookMs} ms`);
  const failing = { ...deps, runtime: { list: () => Promise.reject(new Error('engine down')) } as unknown as Runtime };
  assert.deepEqual(await new AppService(failing).list(), [{ app, status: undefined, instances: [], instancesError: 'engine down' }]);
});
