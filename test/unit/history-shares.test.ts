import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appsOverLevel, cutGroups, fairLevel, historyCuts, type AppCount, type HistoryCut } from '../../src/store/history-shares.js';

const counts = (o: Record<string, number>): AppCount[] => Object.entries(o).map(([app, count]) => ({ app, count }));
const kept = (c: readonly AppCount[], maxRecords: number) => {
  const l = fairLevel(c, maxRecords);
  return l ? c.map((x) => Math.min(x.count, l.level)) : c.map((x) => x.count);
};

describe('history count retention shares', () => {
  it('cuts nothing while every record fits', () => {
    assert.equal(fairLevel(counts({ a: 5, b: 5 }), 10), undefined);
    assert.equal(fairLevel([], 0), undefined);
  });

  it('lets one flooded app give way alone while the small ones keep all theirs', () => {
    assert.deepEqual(fairLevel(counts({ b: 3, flood: 200_000, c: 1 }), 100_000), { level: 99_996, spare: 0 });
  });

  it('fills levels: the apps under the level keep all, the others share the rest, the remainder as spare slots', () => {
    assert.deepEqual(fairLevel(counts({ a: 10, b: 6, c: 2 }), 13), { level: 5, spare: 1 });
    assert.deepEqual(fairLevel(counts({ a: 10, b: 6, c: 2 }), 7), { level: 2, spare: 1 });
    assert.deepEqual(fairLevel(counts({ a: 10, b: 6, c: 2 }), 0), { level: 0, spare: 0 });
    // 10,000 apps of 20 against 100,000: 10 each.
    assert.deepEqual(fairLevel(Array.from({ length: 10_000 }, (_, i) => ({ app: `a${i}`, count: 20 })), 100_000), { level: 10, spare: 0 });
  });

  it('always keeps exactly maxRecords when over it', () => {
    for (let seed = 1; seed < 200; seed++) {
      const c = Array.from({ length: 1 + (seed % 7) }, (_, i) => ({ app: `a${i}`, count: 1 + ((seed * (i + 3) * 7919) % 50) }));
      const total = c.reduce((s, x) => s + x.count, 0);
      const max = seed % total;
      const l = fairLevel(c, max)!;
      assert.equal(kept(c, max).reduce((s, n) => s + n, 0) + l.spare, max, `seed ${seed}`);
      assert.ok(l.spare < appsOverLevel(c, l.level).length || l.spare === 0, `seed ${seed}: a spare slot for each app over the level at most`);
    }
  });

  it('gives the spare slots to the apps whose record at the level is newest, and cuts the others at it', () => {
    const over = counts({ a: 10, b: 6 });
    const atLevel = new Map([['a', { time: 40, id: 9 }], ['b', { time: 5, id: 2 }]]);
    assert.deepEqual(historyCuts(over, atLevel, 5, 1), [
      { app: 'a', time: 40, id: 9, excess: 4 },
      { app: 'b', time: 5, id: 3, excess: 1 },
    ]);
    // An app another gateway pruned meanwhile (no record at that rank) has nothing to cut.
    assert.deepEqual(historyCuts(over, new Map([['b', { time: 5, id: 2 }]]), 5, 1), [{ app: 'b', time: 5, id: 2, excess: 1 }]);
  });

  it('groups cuts by about a chunk of records each, a large one alone', () => {
    const cut = (app: string, excess: number): HistoryCut => ({ app, time: 0, id: 0, excess });
    const groups = cutGroups([cut('a', 3), cut('b', 3), cut('c', 9), cut('d', 1), cut('e', 1)], 6);
    assert.deepEqual(groups.map((g) => g.map((c) => c.app)), [['a', 'b'], ['c'], ['d', 'e']]);
    assert.deepEqual(cutGroups([], 6), []);
  });
});
