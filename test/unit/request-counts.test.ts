// RequestCounts: per-app request counters on the hot path, put on their UTC day
// only when folded; every request lands on its own day, whatever the order.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RequestCounts } from '../../src/accounting/request-counts.js';

const MIDNIGHT = Date.UTC(2026, 0, 11);

/** Counts `requests` ([app, atMs]), folding where a row says 'fold', and returns the totals per app and day. */
function run(steps: ReadonlyArray<readonly [string, number] | 'fold'>): Record<string, number> {
  const totals: Record<string, number> = {};
  const counts = new RequestCounts((app, day, n) => {
    totals[`${app} ${day}`] = (totals[`${app} ${day}`] ?? 0) + n;
  });
  for (const step of steps) {
    if (step === 'fold') counts.fold();
    else counts.add(step[0], step[1]);
  }
  counts.fold();
  return totals;
}

describe('RequestCounts', () => {
  const cases: Array<{ name: string; steps: ReadonlyArray<readonly [string, number] | 'fold'>; want: Record<string, number> }> = [
    { name: 'nothing', steps: [], want: {} },
    { name: 'one app, one day', steps: [['a', MIDNIGHT - 5], ['a', MIDNIGHT - 4], ['a', MIDNIGHT - 1]], want: { 'a 2026-01-10': 3 } },
    { name: 'two apps', steps: [['a', MIDNIGHT - 5], ['b', MIDNIGHT - 4], ['a', MIDNIGHT - 3]], want: { 'a 2026-01-10': 2, 'b 2026-01-10': 1 } },
    { name: 'split exactly at midnight', steps: [['a', MIDNIGHT - 1], ['a', MIDNIGHT], ['b', MIDNIGHT + 1]], want: { 'a 2026-01-10': 1, 'a 2026-01-11': 1, 'b 2026-01-11': 1 } },
    { name: 'a late record from the day before', steps: [['a', MIDNIGHT + 1], ['a', MIDNIGHT - 1], ['a', MIDNIGHT + 2]], want: { 'a 2026-01-10': 1, 'a 2026-01-11': 2 } },
    { name: 'folds in between add up', steps: [['a', MIDNIGHT - 3], 'fold', ['a', MIDNIGHT - 2], 'fold', 'fold', ['a', MIDNIGHT - 1]], want: { 'a 2026-01-10': 3 } },
    { name: 'days apart', steps: [['a', MIDNIGHT - 1], ['a', MIDNIGHT + 3 * 86_400_000]], want: { 'a 2026-01-10': 1, 'a 2026-01-14': 1 } },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(run(c.steps), c.want));
  }

  it('peek shows the counts without taking them', () => {
    const folded: string[] = [];
    const counts = new RequestCounts((app, day, n) => folded.push(`${app} ${day} ${n}`));
    counts.add('a', MIDNIGHT + 1);
    counts.add('a', MIDNIGHT + 2);
    const seen: string[] = [];
    counts.peek((app, day, n) => seen.push(`${app} ${day} ${n}`));
    assert.deepEqual(seen, ['a 2026-01-11 2']);
    assert.deepEqual(folded, []);
    counts.fold();
    assert.deepEqual(folded, ['a 2026-01-11 2']);
    seen.length = 0;
    counts.peek((app, day, n) => seen.push(`${app} ${day} ${n}`));
    assert.deepEqual(seen, [], 'nothing left after a fold');
  });
});
