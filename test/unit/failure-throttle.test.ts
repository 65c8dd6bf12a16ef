import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FailureThrottle } from '../../src/api/failure-throttle.js';

/** One step: at clock `atMs`, a failure from `address`; `retryAfterS` is what the throttle answers (0: a plain 401). */
type Step = [atMs: number, address: string, retryAfterS: number];

describe('FailureThrottle', () => {
  const cases: Array<[what: string, steps: Step[]]> = [
    ['the first failures are free', [[0, 'a', 0], [1, 'a', 0], [2, 'a', 0]]],
    ['past the free ones: blocked, doubling', [[0, 'a', 0], [0, 'a', 0], [0, 'a', 0], [0, 'a', 1], [0, 'a', 2], [0, 'a', 4], [0, 'a', 8]]],
    ['the block is capped', [[0, 'a', 0], [0, 'a', 0], [0, 'a', 0], [0, 'a', 1], [0, 'a', 2], [0, 'a', 4], [0, 'a', 8], [0, 'a', 10], [0, 'a', 10]]],
    ['addresses are counted apart', [[0, 'a', 0], [0, 'a', 0], [0, 'a', 0], [0, 'b', 0], [0, 'a', 1], [0, 'b', 0]]],
    ['failing while blocked keeps the block, answered with what is left', [[0, 'a', 0], [0, 'a', 0], [0, 'a', 0], [0, 'a', 1], [500, 'a', 2], [2_400, 'a', 4]]],
    ['forgotten after a quiet spell', [[0, 'a', 0], [0, 'a', 0], [0, 'a', 0], [0, 'a', 1], [70_000, 'a', 0], [70_000, 'a', 0]]],
    ['not forgotten while failures go on', [[0, 'a', 0], [0, 'a', 0], [0, 'a', 0], [50_000, 'a', 1], [100_000, 'a', 2]]],
  ];
  for (const [what, steps] of cases) {
    it(what, () => {
      let nowMs = 0;
      const throttle = new FailureThrottle({ freeFailures: 3, baseBlockMs: 1_000, maxBlockMs: 10_000, forgetAfterMs: 60_000, now: () => nowMs });
      steps.forEach(([atMs, address, retryAfterS], i) => {
        nowMs = atMs;
        assert.equal(throttle.failed(address), retryAfterS, `step ${i}: a failure from ${address} at ${atMs} ms`);
      });
    });
  }

  it('forgets an address once it shows a valid token', () => {
    const throttle = new FailureThrottle({ freeFailures: 1, now: () => 0 });
    throttle.failed('a');
    assert.ok(throttle.failed('a') > 0);
    throttle.succeeded('a');
    assert.equal(throttle.blockedForS('a'), 0);
    assert.equal(throttle.failed('a'), 0, 'the count starts afresh');
  });

  it('reports how long an address stays blocked, and nothing for others', () => {
    let nowMs = 0;
    const throttle = new FailureThrottle({ freeFailures: 1, baseBlockMs: 3_000, now: () => nowMs });
    throttle.failed('a');
    assert.equal(throttle.blockedForS('a'), 0);
    throttle.failed('a');
    assert.equal(throttle.blockedForS('a'), 3);
    nowMs = 2_500;
    assert.equal(throttle.blockedForS('a'), 1);
    nowMs = 3_000;
    assert.equal(throttle.blockedForS('a'), 0);
    assert.equal(throttle.blockedForS('b'), 0);
  });

  it('stays bounded under a flood of addresses, dropping the oldest', () => {
    const throttle = new FailureThrottle({ freeFailures: 0, maxEntries: 100, now: () => 0 });
    for (let i = 0; i < 1_000; i++) throttle.failed(`10.0.${i >> 8}.${i & 255}`);
    assert.equal(throttle.blockedForS('10.0.0.0'), 0, 'the oldest entry was dropped');
    assert.ok(throttle.blockedForS('10.0.3.231') > 0, 'the newest is kept');
  });
});

describe('FailureThrottle and the wall clock', () => {
  it('a wall clock set back an hour neither lengthens a block nor keeps it past its time', () => {
    const realNow = Date.now;
    let stepMs = 0;
    Date.now = () => realNow() + stepMs;
    try {
      const throttle = new FailureThrottle({ freeFailures: 1, baseBlockMs: 1_000, maxBlockMs: 60_000 });
      throttle.failed('a');
      assert.equal(throttle.failed('a'), 1, 'blocked for a second');
      stepMs = -3_600_000;
      assert.ok(throttle.blockedForS('a') <= 1, `blocked for ${throttle.blockedForS('a')} s after the step`);
      assert.ok(throttle.failed('a') <= 2, 'the next block doubles from where it was, not from an hour ahead');
    } finally {
      Date.now = realNow;
    }
  });
});
