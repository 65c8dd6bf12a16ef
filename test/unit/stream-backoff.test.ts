import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamBackoff } from '../../src/runtime/stream-backoff.js';

// The Swarm runtime's event stream restarted its backoff whenever the engine answered, so a
// stream answered and ended at once was reopened every 250 ms for good (as the Docker one was).
test('an event stream reopens after a doubling wait, restarted only by a stream that served a while', () => {
  const backoff = new StreamBackoff();
  const steps: Array<[number | undefined, number, boolean]> = [
    [undefined, 250, false], // never opened (the engine refused)
    [0, 500, false], // answered and ended at once: no restart
    [10, 1_000, false],
    [4_999, 2_000, false],
    [undefined, 4_000, false],
    [undefined, 5_000, false], // capped
    [0, 5_000, false],
    [5_000, 250, true], // served 5 s: the next break is retried quickly again
    [0, 500, false],
  ];
  for (const [servedMs, waitMs, steady] of steps) assert.deepEqual(backoff.next(servedMs), { waitMs, steady }, `served ${servedMs}`);
});
