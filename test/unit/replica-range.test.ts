// `berth scale hello=2` on an app with the default scale (min 0, max 1) was refused with
// "replicas for hello must be from 1 to 1 (scale.min..scale.max), not 2": a scale.min of 1
// the spec never had, and no word of what to change. The refusal now names the bounds as
// they are and, past scale.max, the field to raise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replicaRangeProblem } from '../../src/activator/replica-range.js';

test('a count past scale.max of a scale-to-zero app names the bounds as they are and the field to raise', () => {
  assert.equal(
    replicaRangeProblem('hello', 2, { min: 0, max: 1 }),
    "replicas for hello must be from 1 to 1 (at least 1, at most scale.max), not 2: raise scale.max in hello's spec to run more",
  );
});

test('with scale.min 1 or more the range is scale.min..scale.max; below it there is nothing to raise', () => {
  assert.equal(replicaRangeProblem('web', 1, { min: 2, max: 5 }), 'replicas for web must be from 2 to 5 (scale.min..scale.max), not 1');
  assert.equal(replicaRangeProblem('web', 6, { min: 2, max: 5 }), "replicas for web must be from 2 to 5 (scale.min..scale.max), not 6: raise scale.max in web's spec to run more");
  assert.equal(replicaRangeProblem('web', 0, { min: 0, max: 3 }), 'replicas for web must be from 1 to 3 (at least 1, at most scale.max), not 0');
  assert.equal(replicaRangeProblem('web', 1.5, { min: 0, max: 3 }), 'replicas for web must be from 1 to 3 (at least 1, at most scale.max), not 1.5');
});

test('a count within the range is no problem', () => {
  for (const n of [1, 2, 3]) assert.equal(replicaRangeProblem('web', n, { min: 0, max: 3 }), undefined);
  assert.equal(replicaRangeProblem('web', 2, { min: 2, max: 2 }), undefined);
});
