// At the start of a gateway on a shared store: an unsettled update (a gateway killed mid-rollout)
// whose replaced revision still runs is reconciled at that revision first, then rolled out from it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startingRevisions } from '../../src/gateway/followed-rollouts.js';
import type { Instance, InstanceState } from '../../src/runtime/runtime.js';
import { containerSpecHash } from '../../src/spec/hash.js';
import type { StoredApp } from '../../src/store/store.js';
import { appSpec } from '../support/spec-fixture.js';

const stored = (name: string, tag: string, revision: number): StoredApp => {
  const spec = appSpec(name, {}, `example/${name}:${tag}`);
  return { name, spec, revision, specHash: containerSpecHash(spec), source: 'api', createdAt: new Date(0), updatedAt: new Date(0) };
};
const instance = (app: StoredApp, state: InstanceState = 'running'): Instance => ({ id: `${app.name}-${app.revision}`, name: `berth-${app.name}-0`, app: app.name, index: 0, specHash: containerSpecHash(app.spec), state, health: 'none' });

test('an unsettled update whose old revision runs starts from it and is rolled out; the others start as stored', () => {
  const web1 = stored('web', '1', 1);
  const web2 = stored('web', '2', 2);
  const api1 = stored('api', '1', 1);
  const api2 = stored('api', '2', 2);
  const calm = stored('calm', '1', 1);
  const desired = [web2, api2, calm];
  // web: revision 1 still runs (a revision 2 container beside it too, not ready); api: revision 2 alone runs already.
  const out = startingRevisions(desired, [web1, api1], [instance(web1), instance(web2), instance(api2), instance(calm)]);
  assert.deepEqual(out.apps, [web1, api2, calm]);
  assert.deepEqual(out.rollOut, ['web']);
});

test('an old revision whose container does not run (stopped, scaled to zero) is not started for the rollout: the update stands', () => {
  const web1 = stored('web', '1', 1);
  const web2 = stored('web', '2', 2);
  const out = startingRevisions([web2], [web1], [instance(web1, 'exited')]);
  assert.deepEqual(out, { apps: [web2], rollOut: [] });
});

test('a replaced row of an app no longer desired (deleted since) is not brought back', () => {
  const web1 = stored('web', '1', 1);
  const out = startingRevisions([], [web1], [instance(web1)]);
  assert.deepEqual(out, { apps: [], rollOut: [] });
});
