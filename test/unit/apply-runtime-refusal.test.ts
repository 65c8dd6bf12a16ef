// A spec the runtime can never run (Swarm: input.as file, privileged, the host's network or
// PIDs) is refused at apply, at its field, rather than stored to fail at every wake.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { FakeGatewayBed } from '../support/fake-gateway.js';
import { SwarmRuntime } from '../../src/runtime/swarm/swarm-runtime.js';
import type { AppSpec } from '../../src/spec/types.js';

const spec = (name: string, extra: Record<string, unknown> = {}) => ({ apiVersion: 'berth/v1', name, image: `fake/${name}:1`, port: 8080, ...extra });

it('an apply of what the Swarm runtime cannot run is refused (422) at the field, and stores nothing', async (t) => {
  const bed = await FakeGatewayBed.create();
  t.after(() => bed.dispose());
  // The fake engine refuses what SwarmRuntime refuses (its specIssues does no I/O).
  const swarm = new SwarmRuntime({});
  Object.assign(bed.runtime, { specIssues: (app: AppSpec) => swarm.specIssues(app) });
  const gateway = await bed.start();
  const refused = await bed.api(gateway, 'POST', '/v1/apps', spec('web', { input: { data: { a: 1 }, as: 'file' } }));
  assert.equal(refused.status, 422, JSON.stringify(refused.json));
  assert.equal(refused.json.code, 'spec_invalid');
  assert.deepEqual(refused.json.problems.map((p: { path: string }) => p.path), ['request body: input.as']);
  assert.match(refused.json.problems[0].message, /input.as file is not supported on Swarm/);
  assert.equal((await bed.api(gateway, 'GET', '/v1/apps/web')).status, 404, 'nothing stored');
  assert.equal(bed.runtime.calls.ensure, 0, 'nothing made');
  // What the policy denies is denied as on one engine (403), before the runtime is asked.
  const denied = await bed.api(gateway, 'POST', '/v1/apps', spec('web', { security: { privileged: true } }));
  assert.equal(denied.status, 403, JSON.stringify(denied.json));
  assert.equal(denied.json.code, 'policy_denied');
  // The same app delivered another way is applied.
  assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec('web', { input: { data: { a: 1 }, as: 'env' } }))).status, 200);
});
