import { test } from 'node:test';
import assert from 'node:assert/strict';
import { APP_STATES, describeTable, isIllegal, LIFECYCLE_EVENTS, transition, type LifecycleEvent } from '../../src/activator/lifecycle.js';
import type { AppState } from '../../src/activator/app-status.js';

/**
 * Every state × every event: the expected next state, or '-' for an illegal
 * transition. Columns follow APP_STATES:
 *   stopped, starting, running, stopping, paused, failed, crashloop
 */
const EXPECTED: Record<LifecycleEvent, readonly string[]> = {
  wake: ['starting', '-', '-', '-', 'starting', 'starting', 'starting'],
  ready: ['-', 'running', '-', '-', '-', '-', '-'],
  startFailed: ['-', 'failed', '-', '-', '-', '-', '-'],
  crashLooped: ['-', 'crashloop', '-', '-', '-', '-', '-'],
  engineDown: ['-', 'failed', '-', '-', '-', '-', '-'],
  stop: ['-', 'stopping', 'stopping', '-', 'stopping', '-', '-'],
  stopped: ['-', 'stopped', 'stopped', 'stopped', 'stopped', 'stopped', 'stopped'],
  paused: ['-', '-', '-', 'paused', '-', '-', '-'],
  lastExited: ['-', '-', 'stopped', '-', '-', '-', '-'],
  lastCrashed: ['-', '-', 'crashloop', '-', '-', '-', '-'],
  outsideStart: ['running', '-', '-', '-', 'running', 'running', 'running'],
  outsidePause: ['paused', '-', 'paused', '-', '-', '-', '-'],
  removed: ['stopped', 'stopped', 'stopped', 'stopped', 'stopped', 'stopped', 'stopped'],
  reconcileFailed: ['failed', 'failed', '-', '-', 'failed', 'failed', 'crashloop'],
};

for (const event of LIFECYCLE_EVENTS) {
  test(`transition table: ${event} from every state`, () => {
    APP_STATES.forEach((state, column) => {
      const want = EXPECTED[event][column]!;
      const got = transition(state, event);
      if (want === '-') {
        assert.ok(isIllegal(got), `${state} × ${event} should be illegal`);
        assert.match(got.illegal, new RegExp(`${event} cannot happen while the app is ${state}`));
      } else {
        assert.ok(!isIllegal(got), `${state} × ${event} should be legal`);
        assert.equal(got.next, want as AppState, `${state} × ${event}`);
      }
    });
  });
}

test('the table covers every event and names no unknown state', () => {
  assert.deepEqual(Object.keys(EXPECTED).sort(), [...LIFECYCLE_EVENTS].sort());
  for (const row of Object.values(EXPECTED)) for (const cell of row) assert.ok(cell === '-' || (APP_STATES as readonly string[]).includes(cell), cell);
});

const ACTION_CASES: Array<[AppState, LifecycleEvent, string[]]> = [
  ['starting', 'ready', ['armIdle', 'armHealth', 'fillReplicas']],
  ['stopped', 'outsideStart', ['armIdle', 'armHealth', 'fillReplicas']],
  ['starting', 'crashLooped', ['stopHealth', 'releaseDeps', 'stopContainers']],
  ['starting', 'startFailed', ['stopHealth', 'releaseDeps']],
  ['starting', 'engineDown', ['stopHealth', 'releaseDeps']],
  ['stopping', 'stopped', ['stopHealth', 'releaseDeps', 'armRemoval']],
  ['running', 'lastExited', ['stopHealth', 'releaseDeps', 'armRemoval']],
  ['stopping', 'paused', ['stopHealth', 'releaseDeps']],
  ['stopped', 'wake', []],
];

for (const [state, event, actions] of ACTION_CASES) {
  test(`actions: ${state} × ${event} → [${actions.join(', ')}]`, () => {
    const got = transition(state, event);
    assert.ok(!isIllegal(got));
    assert.deepEqual([...got.actions], actions);
  });
}

test('an engine outage never leads to crashloop, and only a start can crash-loop', () => {
  for (const state of APP_STATES) {
    const got = transition(state, 'engineDown');
    if (!isIllegal(got)) assert.notEqual(got.next, 'crashloop');
  }
});

test('describeTable lists one line per legal transition', () => {
  const legal = LIFECYCLE_EVENTS.flatMap((e) => APP_STATES.filter((s) => !isIllegal(transition(s, e))));
  assert.equal(describeTable().split('\n').length, legal.length);
  assert.match(describeTable(), /^starting × ready → running \[armIdle, armHealth, fillReplicas\]$/m);
});
