// The decisions of leftover-stops.ts as tables: which kept containers still hold an app up, and when a stop
// the engine did not carry out is shown as the app's last error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUp, stopFailureShown } from '../../src/activator/leftover-stops.js';
import type { InstanceState } from '../../src/runtime/runtime.js';

test('isUp: a kept container holds its app up while it runs or is frozen', () => {
  const table: [InstanceState, boolean][] = [
    ['running', true],
    ['paused', true],
    ['exited', false],
    ['created', false],
    ['dead', false],
  ];
  for (const [state, up] of table) assert.equal(isUp({ state }), up, state);
});

test('stopFailureShown: a start’s failure shown stays; a stop failure replaces none or an older stop failure', () => {
  const failure = 'the engine did not stop its container web-0: timeout; tried again';
  const cases: [string, string | undefined, boolean][] = [
    ['nothing shown', undefined, true],
    ['an earlier stop failure', 'the engine did not stop its container web-0: refused; tried again', true],
    ['the same stop failure: no change to tell', failure, false],
    ['a start’s failure: the older, likely the cause', 'its container exited by itself with code 1', false],
  ];
  for (const [why, lastError, shown] of cases) assert.equal(stopFailureShown(lastError, failure), shown, why);
});
