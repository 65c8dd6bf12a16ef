import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CrashBackoff } from '../../src/activator/crash-backoff.js';

test('no backoff below the threshold, then doubling delays up to the cap', () => {
  const b = new CrashBackoff(3, 1_000, 5_000);
  assert.equal(b.fail(0), 0);
  assert.equal(b.fail(0), 0);
  assert.equal(b.looping, false);
  assert.equal(b.fail(100), 1_000);
  assert.equal(b.looping, true);
  assert.equal(b.waitMs(600), 500);
  assert.equal(b.waitMs(1_100), 0);
  assert.equal(b.fail(2_000), 2_000);
  assert.equal(b.fail(5_000), 4_000);
  assert.equal(b.fail(10_000), 5_000, 'capped');
});

test('reset clears the count and the wait', () => {
  const b = new CrashBackoff(1, 1_000, 10_000);
  b.fail(0);
  assert.equal(b.waitMs(0), 1_000);
  b.reset();
  assert.equal(b.waitMs(0), 0);
  assert.equal(b.looping, false);
});
