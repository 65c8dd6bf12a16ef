// What an app does about an instance the proxy could not reach, once the engine was asked: the decision
// (unreachable-check.ts) as a table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PASSIVE_EJECT_AFTER, unreachableOutcome, type UnreachableOutcome } from '../../src/activator/unreachable-check.js';

test('unreachableOutcome: handled, exited with what the engine knows, ejected past the failures in a row (one at a time), or wait', () => {
  const cases: [string, Parameters<typeof unreachableOutcome>, UnreachableOutcome][] = [
    ['berth moved on meanwhile', ['handled', 9, true], { kind: 'handled' }],
    ['gone altogether', [{}, 0, true], { kind: 'exited', exitCode: undefined, engineError: undefined }],
    ['exited with a code', [{ exitCode: 3 }, 0, true], { kind: 'exited', exitCode: 3, engineError: undefined }],
    ['a task no node can take', [{ engineError: 'no suitable node' }, 0, true], { kind: 'exited', exitCode: undefined, engineError: 'no suitable node' }],
    ['runs, failures below the bound', [false, PASSIVE_EJECT_AFTER - 1, true], { kind: 'wait' }],
    ['runs, failures at the bound', [false, PASSIVE_EJECT_AFTER, true], { kind: 'eject' }],
    ['runs, failures at the bound, another already out', [false, PASSIVE_EJECT_AFTER + 5, false], { kind: 'wait' }],
  ];
  for (const [why, args, expected] of cases) assert.deepEqual(unreachableOutcome(...args), expected, why);
});
