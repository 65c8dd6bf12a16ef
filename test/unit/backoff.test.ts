import { test } from 'node:test';
import assert from 'node:assert/strict';
import { doublingDelayMs } from '../../src/backoff.js';

const cases: Array<[step: number, firstMs: number, maxMs: number, want: number]> = [
  [0, 1_000, 30_000, 1_000],
  [1, 1_000, 30_000, 2_000],
  [4, 1_000, 30_000, 16_000],
  [5, 1_000, 30_000, 30_000], // capped
  [-3, 1_000, 30_000, 1_000], // no step below the first
  [10_000, 60_000, 86_400_000, 86_400_000], // a count of days stays finite
];
for (const [step, firstMs, maxMs, want] of cases) {
  test(`step ${step} from ${firstMs} ms, at most ${maxMs} ms: ${want} ms`, () => assert.equal(doublingDelayMs(step, firstMs, maxMs), want));
}
