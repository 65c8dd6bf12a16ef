import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { desiredSpecs, emptyStoreRefusal } from '../../src/gateway/desired-specs.js';
import type { StoredApp } from '../../src/store/store.js';
import { appSpec } from '../support/spec-fixture.js';

function stored(scale: { min: number; max: number; replicas: number }, replicas?: number): StoredApp {
  const app: StoredApp = { name: 'web', spec: { ...appSpec('web'), scale }, revision: 1, specHash: 'x', source: 'api', createdAt: new Date(0), updatedAt: new Date(0) };
  if (replicas !== undefined) app.replicas = replicas;
  return app;
}

describe('desiredSpecs', () => {
  const cases: Array<[string, StoredApp, number]> = [
    ['no override: the spec', stored({ min: 0, max: 5, replicas: 2 }), 2],
    ['an override wins', stored({ min: 0, max: 5, replicas: 1 }, 3), 3],
    ['an override past a narrowed max is clamped', stored({ min: 0, max: 2, replicas: 1 }, 4), 2],
    ['an override under min is raised', stored({ min: 3, max: 5, replicas: 3 }, 1), 3],
  ];
  for (const [what, app, replicas] of cases) it(what, () => assert.equal(desiredSpecs([app])[0]!.scale.replicas, replicas));
  it('returns the very spec when nothing changes', () => {
    const app = stored({ min: 0, max: 5, replicas: 2 }, 2);
    assert.equal(desiredSpecs([app])[0], app.spec);
  });
});

describe('emptyStoreRefusal', () => {
  const cases: Array<[string, boolean, string[], boolean, RegExp | undefined]> = [
    ['a store with a schema starts', false, ['berth-web-0'], false, undefined],
    ['an empty file and no containers starts', true, [], false, undefined],
    ['an empty file beside containers is refused', true, ['berth-web-0'], false, /\/data\/berth\.db exists but is empty .* 1 berth-managed container\(s\) .*berth-web-0.*restore it from a backup.*--accept-empty-store/],
    ['unless explicitly accepted', true, ['berth-web-0'], true, undefined],
    ['many containers are counted, five named', true, ['a', 'b', 'c', 'd', 'e', 'f', 'g'], false, /7 berth-managed .*\(a, b, c, d, e and 2 more\)/],
  ];
  for (const [what, empty, containers, accept, expected] of cases) {
    it(what, () => {
      const refusal = emptyStoreRefusal('/data/berth.db', empty, containers, accept);
      if (expected) assert.match(refusal ?? '', expected);
      else assert.equal(refusal, undefined);
    });
  }
});
