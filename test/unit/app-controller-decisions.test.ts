// The pure decisions AppController takes from files of their own, as tables: which exits on a following
// gateway are the leader's rollout, what an out-of-memory kill tells, the replica count after a new spec,
// and which app states count as down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { APP_DOWN, isDown, type AppState } from '../../src/activator/app-status.js';
import { outOfMemoryError } from '../../src/activator/ended-reason.js';
import { rolloutRetirement } from '../../src/activator/leader-stop.js';
import { replicasAfterUpdate } from '../../src/activator/replica-range.js';

test('rolloutRetirement: an instance of another revision than the app’s is the leader’s rollout retiring it', () => {
  const cases: [string, string, string, string | undefined][] = [
    ['same revision: the exit is the app’s own', 'h1', 'h1', undefined],
    ['an older revision: retired by the leader', 'h0', 'h1', 'replaced by the new revision'],
    ['a newer one than this gateway took: still not its own', 'h2', 'h1', 'replaced by the new revision'],
  ];
  for (const [why, instance, app, expected] of cases) assert.equal(rolloutRetirement(instance, app), expected, why);
});

test('outOfMemoryError: the exit code (137 when unknown) and the limit it went past, in MiB or the gateway’s default', () => {
  const cases: [number | undefined, number | undefined, string][] = [
    [137, 64 * 2 ** 20, '(code 137; its limit: 64 MiB)'],
    [undefined, 64 * 2 ** 20, '(code 137; its limit: 64 MiB)'],
    [1, 100_000_000, '(code 1; its limit: 95 MiB)'],
    [137, undefined, "(code 137; its limit: the gateway's default)"],
  ];
  for (const [code, limit, part] of cases) {
    assert.equal(outOfMemoryError(code, limit), `the container ran out of memory and was killed ${part}; give it more with resources.memory`);
  }
});

test('replicasAfterUpdate: a scaled count lives until the spec changes, and stays within scale.min..max, at least 1', () => {
  const scale = (replicas: number, min = 0, max = 5) => ({ min, max, replicas });
  const cases: [string, number, ReturnType<typeof scale>, number, boolean, number][] = [
    ['same spec: the scaled count is kept', 3, scale(1), 1, false, 3],
    ['the spec changed elsewhere: its own count', 3, scale(1), 1, true, 1],
    ['scale.replicas changed: the new one', 3, scale(2), 1, false, 2],
    ['kept count above a lowered max: the max', 4, scale(1, 0, 2), 1, false, 2],
    ['kept count below a raised min: the min', 1, scale(1, 3, 5), 1, false, 3],
    ['scale-to-zero app: never below 1', 0, scale(0), 0, false, 1],
  ];
  for (const [why, current, s, oldReplicas, changed, expected] of cases) assert.equal(replicasAfterUpdate(current, s, oldReplicas, changed), expected, why);
});

test('isDown and APP_DOWN: paused serves nothing but is up for the count of apps the gateway runs', () => {
  const table: [AppState, boolean, boolean][] = [
    ['stopped', true, true],
    ['failed', true, true],
    ['crashloop', true, true],
    ['paused', true, false],
    ['starting', false, false],
    ['running', false, false],
    ['stopping', false, false],
  ];
  for (const [state, down, appDown] of table) {
    assert.equal(isDown(state), down, `isDown(${state})`);
    assert.equal(APP_DOWN.has(state), appDown, `APP_DOWN has ${state}`);
  }
});
