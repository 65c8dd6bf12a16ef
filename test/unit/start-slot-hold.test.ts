/**
 * When a start gives its start slot back before it ends (limits.startSlotHold): while
 * the engine calls are under way never, once it waits for its app's readiness after
 * the hold, unless its own start timeout ends it first.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { slotGiveBackAt } from '../../src/activator/start-slot-hold.js';

for (const [why, readinessSince, holdMs, deadline, expected] of [
  ['engine calls under way, however long: kept', undefined, 10_000, 60_000, undefined],
  ['engine calls under way, hold 0: kept', undefined, 0, 60_000, undefined],
  ['waiting for readiness since 1000, hold 10 s, timeout at 60 s: given back at 11000', 1_000, 10_000, 60_000, 11_000],
  ['hold 0: given back as soon as the container runs', 1_000, 0, 60_000, 1_000],
  ['the start timeout ends first: kept to the end', 1_000, 10_000, 5_000, undefined],
  ['the start timeout ends at the same moment: kept to the end', 1_000, 4_000, 5_000, undefined],
  ['one millisecond before the deadline: given back', 1_000, 3_999, 5_000, 4_999],
  ['a negative hold reads as 0', 1_000, -5, 60_000, 1_000],
] as const) {
  test(`start slot hold: ${why}`, () => {
    assert.equal(slotGiveBackAt(readinessSince, holdMs, deadline), expected);
  });
}
