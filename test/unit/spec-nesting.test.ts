import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_NESTING, nestingProblem } from '../../src/spec/nesting.js';
import { parseSpecText } from '../../src/spec/index.js';
import { SpecError } from '../../src/errors.js';

const cases: Array<[string, string, boolean]> = [
  ['flat YAML', 'name: a\nimage: b\n', false],
  ['flow at the limit', '['.repeat(MAX_NESTING) + ']'.repeat(MAX_NESTING), false],
  ['flow one past the limit', '['.repeat(MAX_NESTING + 1) + ']'.repeat(MAX_NESTING + 1), true],
  ['mixed braces past the limit', '{"a":'.repeat(MAX_NESTING + 1) + '1' + '}'.repeat(MAX_NESTING + 1), true],
  ['brackets inside double quotes do not count', `x: "${'['.repeat(1000)}"`, false],
  ['brackets inside single quotes do not count', `x: '${'{'.repeat(1000)}'`, false],
  ['an escaped quote does not end the string', `x: "\\"${'['.repeat(1000)}"`, false],
  ['closing brackets never go below zero', ']'.repeat(1000) + '['.repeat(10), false],
  ['siblings do not add up', '[[1],[2],[3]]'.repeat(1000), false],
];

for (const [what, text, refused] of cases) {
  test(`nesting: ${what}`, () => assert.equal(nestingProblem(text) !== undefined, refused));
}

test('a spec nested 100000 deep is refused as a spec error at once, and the process lives', () => {
  const began = performance.now();
  assert.throws(() => parseSpecText('['.repeat(100_000) + ']'.repeat(100_000), 'request body'), (err: unknown) => err instanceof SpecError && /nested deeper than 64/.test(err.message));
  assert.ok(performance.now() - began < 1_000);
});
