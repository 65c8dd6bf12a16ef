import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { buildConfig } from '../../src/config/load-config.js';
import { runtimeFromConfig } from '../../src/runtime/runtime-from-config.js';
import { DockerRuntime } from '../../src/runtime/docker/docker-runtime.js';
import { SwarmRuntime } from '../../src/runtime/swarm/swarm-runtime.js';
import type { RuntimeHooks } from '../../src/runtime/runtime.js';

const hooks: RuntimeHooks = { inputUrl: () => '', defaultResources: () => ({}), secretPolicy: () => ({}), bindMountRoots: () => [], storeId: 's1' };

test('runtime: docker by default, swarm when asked, with the swarm block parsed', async () => {
  const plain = await buildConfig({}, tmpdir());
  assert.equal(plain.runtime, 'docker');
  assert.deepEqual(plain.swarm, { nodeAddresses: {}, taskPollMs: 1_000 });
  assert.ok(runtimeFromConfig(plain, hooks) instanceof DockerRuntime);

  const swarm = await buildConfig({ runtime: 'swarm', docker: 'unix:///run/manager.sock', swarm: { nodeAddresses: { 'worker-1': '10.0.1.7' }, volumeNode: 'm1', taskPoll: '250ms' } }, tmpdir());
  assert.equal(swarm.runtime, 'swarm');
  assert.deepEqual(swarm.swarm, { nodeAddresses: { 'worker-1': '10.0.1.7' }, volumeNode: 'm1', taskPollMs: 250 });
  const runtime = runtimeFromConfig(swarm, hooks);
  assert.ok(runtime instanceof SwarmRuntime);
  assert.equal(runtime.endpoint.url, 'unix:///run/manager.sock');
});

test('runtime and swarm settings are checked, naming the field', async () => {
  await assert.rejects(buildConfig({ runtime: 'kubernetes' }, tmpdir()), /runtime/);
  await assert.rejects(buildConfig({ swarm: { nodeAddresses: { w1: 'http://10.0.0.1:80/' } } }, tmpdir()), /swarm\.nodeAddresses\.w1/);
  await assert.rejects(buildConfig({ swarm: { taskPoll: 0 } }, tmpdir()), /swarm\.taskPoll/);
  await assert.rejects(buildConfig({ swarm: { nodes: {} } }, tmpdir()), /swarm/);
});
