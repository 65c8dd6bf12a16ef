// A spec's network is joined only when a network of that name (or that ID) exists: the engine
// also answers for the first digits of an ID, which would join another network than the one
// the policy allowed. The engine is stubbed here; runtime-docker.test.ts shows it on a real one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RuntimeError } from '../../src/errors.js';
import type { DockerContext } from '../../src/runtime/docker/context.js';
import { requireNetwork } from '../../src/runtime/docker/network.js';
import type { SwarmContext } from '../../src/runtime/swarm/context.js';
import { requireSwarmNetwork } from '../../src/runtime/swarm/network.js';

const ID = 'cafe0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab';

/** An engine whose only network is `name` (`scope`), found as the engine finds one: by name, ID, or ID prefix. */
function engineWith(name: string, scope = 'local'): DockerContext & SwarmContext {
  const docker = {
    getNetwork: (ref: string) => ({
      inspect: async () => {
        if (ref === name || ID.startsWith(ref)) return { Name: name, Id: ID, Scope: scope, Driver: scope === 'swarm' ? 'overlay' : 'bridge' };
        throw Object.assign(new Error('network not found'), { statusCode: 404 });
      },
    }),
  };
  return { docker: () => docker, endpoint: { url: 'unix:///var/run/docker.sock' } } as unknown as DockerContext & SwarmContext;
}

const cases: Array<{ ref: string; joins: boolean; why: string }> = [
  { ref: 'web', joins: true, why: 'its name' },
  { ref: ID, joins: true, why: 'its whole ID' },
  { ref: 'cafe', joins: false, why: 'a name no network has, the start of its ID' },
  { ref: ID.slice(0, 12), joins: false, why: 'the short ID docker ps shows' },
  { ref: 'nope', joins: false, why: 'nothing at all' },
];

for (const { ref, joins, why } of cases) {
  test(`network "${ref.slice(0, 16)}" (${why}): ${joins ? 'joined' : 'refused'}, on one host and on a swarm`, async () => {
    for (const check of [() => requireNetwork(engineWith('web'), ref), () => requireSwarmNetwork(engineWith('web', 'swarm'), ref)]) {
      if (joins) await check();
      else await assert.rejects(check(), (err: unknown) => err instanceof RuntimeError && new RegExp(`network ${ref} does not exist`).test(err.message));
    }
  });
}
