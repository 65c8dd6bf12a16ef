// The tail of a service's logs across its tasks (src/runtime/swarm/log-tail.ts), without a swarm.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lastLines, sinceAfter, timestampNs } from '../../src/runtime/swarm/log-tail.js';

// As the manager sends `tail=2` of a service with three tasks: each task's last two lines, task after task.
const perTask = [
  '2026-12-01T18:00:05.5Z task2 a',
  '2026-12-01T18:00:06.000000001Z task2 b',
  '2026-12-01T18:00:01Z task1 a',
  '2026-12-01T18:00:02.25Z task1 b',
  '2026-12-01T18:00:09.123456789Z task3 a',
  '2026-12-01T18:00:09.123456789Z task3 b',
  '',
].join('\n');

describe('lastLines', () => {
  it('keeps the newest lines of all the tasks together, as many as asked, in time order, without timestamps', () => {
    // Before, --tail 2 printed all six lines, in the order the tasks came.
    assert.equal(lastLines(perTask, 2).text, 'task3 a\ntask3 b\n');
    assert.equal(lastLines(perTask, 4).text, 'task2 a\ntask2 b\ntask3 a\ntask3 b\n');
    assert.equal(lastLines(perTask, 100).text, 'task1 a\ntask1 b\ntask2 a\ntask2 b\ntask3 a\ntask3 b\n');
  });

  it('sorts by the instant, not the text: the engine cuts trailing zeros', () => {
    const lines = '2026-12-01T18:00:00.348123456Z later\n2026-12-01T18:00:00.34812Z earlier\n';
    assert.equal(lastLines(lines, 2).text, 'earlier\nlater\n');
  });

  it('goes on one nanosecond past the newest line read', () => {
    assert.equal(lastLines(perTask, 1).since, `${Date.parse('2026-12-01T18:00:09Z') / 1000}.123456790`);
    assert.deepEqual(lastLines('', 5), { text: '' });
  });

  it('keeps a line without a timestamp with the line before it', () => {
    assert.equal(lastLines('2026-12-01T18:00:01Z a\nbare\n2026-12-01T18:00:00Z b\n', 3).text, 'b\na\nbare\n');
  });

  it('keeps nothing for tail 0', () => assert.equal(lastLines(perTask, 0).text, ''));
});

describe('timestampNs and sinceAfter', () => {
  it('read the engine’s timestamps to the nanosecond', () => {
    assert.equal(timestampNs('1970-01-01T00:00:01.5Z'), 1_500_000_000n);
    assert.equal(timestampNs('not a time'), undefined);
    assert.equal(sinceAfter(1_999_999_999n), '2.000000000');
  });
});
