// The count retention's fair shares (history-shares.ts) run through pruneHistory against an in-memory history
// that answers each step as the stores' statements do, compared with what max-min fairness keeps: random apps
// and records (times that tie), maxRecords 0 and 1, an app whose records go between the count and the cut
// (deleted, or pruned by another gateway), and 10,000 apps of one record each.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { pruneHistory, type PruneSteps } from '../../src/store/history-prune.js';
import type { AppCount, HistoryCut, RecordKey } from '../../src/store/history-shares.js';
import { PRUNE_CHUNK } from '../../src/store/history-rows.js';

interface Row {
  app: string;
  time: number;
  id: number;
}

const newestFirst = (x: Row, y: Row) => y.time - x.time || y.id - x.id;
const before = (row: Row, key: RecordKey) => row.time < key.time || (row.time === key.time && row.id < key.id);

/** The history as the stores keep it, one statement a step; `onStep` runs before each (to change it meanwhile). */
class MemoryHistory implements PruneSteps {
  constructor(
    public rows: Row[],
    readonly appsPerStep: number,
    private readonly onStep: (step: string) => void = () => undefined,
  ) {}

  deleteOlderChunk(cutoff: number): number {
    this.onStep('older');
    const old = this.rows.filter((r) => r.time < cutoff).slice(0, PRUNE_CHUNK);
    const gone = new Set(old);
    this.rows = this.rows.filter((r) => !gone.has(r));
    return old.length;
  }

  mayExceed(maxRecords: number): boolean {
    this.onStep('mayExceed');
    return this.rows.length > maxRecords;
  }

  appCounts(after: string, limit: number): AppCount[] {
    this.onStep('counts');
    const counts = new Map<string, number>();
    for (const r of this.rows) if (r.app > after) counts.set(r.app, (counts.get(r.app) ?? 0) + 1);
    return [...counts]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, limit)
      .map(([app, count]) => ({ app, count }));
  }

  recordsAtRank(apps: readonly string[], offset: number): Map<string, RecordKey> {
    this.onStep('rank');
    const found = new Map<string, RecordKey>();
    for (const app of apps) {
      const row = this.rows.filter((r) => r.app === app).sort(newestFirst)[offset];
      if (row) found.set(app, { time: row.time, id: row.id });
    }
    return found;
  }

  deleteCutChunk(cuts: readonly HistoryCut[]): number {
    this.onStep('cut');
    const byApp = new Map(cuts.map((c) => [c.app, c]));
    const doomed = this.rows.filter((r) => {
      const cut = byApp.get(r.app);
      return cut !== undefined && before(r, cut);
    });
    const gone = new Set(doomed.slice(0, PRUNE_CHUNK));
    this.rows = this.rows.filter((r) => !gone.has(r));
    return gone.size;
  }
}

const countsOf = (rows: readonly Row[]) => {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.app, (counts.get(r.app) ?? 0) + 1);
  return counts;
};

/** What a count prune must leave: each app its newest records, maxRecords in all, and no app below another's share. */
function assertFair(start: readonly Row[], end: readonly Row[], maxRecords: number): void {
  const had = countsOf(start);
  const kept = countsOf(end);
  assert.equal(end.length, Math.min(start.length, maxRecords), 'the history keeps maxRecords (or all it had)');
  for (const [app, count] of had) {
    const k = kept.get(app) ?? 0;
    const newest = start.filter((r) => r.app === app).sort(newestFirst).slice(0, k);
    assert.deepEqual(end.filter((r) => r.app === app).sort(newestFirst), newest, `${app} keeps its newest ${k}`);
    // Max-min fairness: an app that lost records keeps at least as many as any other, less one (the spare slots).
    if (k < count) for (const [other, ko] of kept) assert.ok(ko <= k + 1, `${app} lost records down to ${k} while ${other} keeps ${ko}`);
  }
}

const rowsArb = fc
  .array(fc.record({ app: fc.constantFrom('a', 'b', 'c', 'd', 'e'), time: fc.integer({ min: 0, max: 6 }) }), { maxLength: 60 })
  .map((rs) => rs.map((r, i) => ({ ...r, id: i + 1 })));

describe('count retention through pruneHistory, against max-min fairness', () => {
  it('random apps and records (tied times), any maxRecords from 0, apps paged a few a step (fast-check, fixed seed)', async () => {
    await fc.assert(
      fc.asyncProperty(rowsArb, fc.integer({ min: 0, max: 70 }), fc.integer({ min: 1, max: 3 }), async (rows, maxRecords, appsPerStep) => {
        const history = new MemoryHistory([...rows], appsPerStep);
        await pruneHistory(history, { maxAgeMs: Number.POSITIVE_INFINITY, maxRecords }, 0);
        assertFair(rows, history.rows, maxRecords);
      }),
      { seed: 20261202, numRuns: 300 },
    );
  });

  it('maxRecords 0 empties the history, 1 keeps only the newest record of all (ties by id)', async () => {
    const rows: Row[] = [
      { app: 'a', time: 5, id: 1 },
      { app: 'b', time: 5, id: 2 },
      { app: 'a', time: 3, id: 3 },
    ];
    const none = new MemoryHistory([...rows], 2);
    await pruneHistory(none, { maxAgeMs: Number.POSITIVE_INFINITY, maxRecords: 0 }, 0);
    assert.deepEqual(none.rows, []);
    const one = new MemoryHistory([...rows], 2);
    await pruneHistory(one, { maxAgeMs: Number.POSITIVE_INFINITY, maxRecords: 1 }, 0);
    assert.deepEqual(one.rows, [{ app: 'b', time: 5, id: 2 }]);
  });

  it('an app whose records go between the count and the cut (deleted, or pruned elsewhere) is cut no further, and the others keep their share', async () => {
    for (const when of ['rank', 'cut'] as const) {
      const rows: Row[] = [];
      for (let i = 0; i < 10; i++) rows.push({ app: 'a', time: i, id: rows.length + 1 }, { app: 'gone', time: i, id: rows.length + 2 });
      for (let i = 0; i < 4; i++) rows.push({ app: 'b', time: i, id: rows.length + 1 });
      let once = false;
      const history = new MemoryHistory([...rows], 10, (step) => {
        if (step === when && !once) {
          once = true;
          history.rows = history.rows.filter((r) => r.app !== 'gone');
        }
      });
      await pruneHistory(history, { maxAgeMs: Number.POSITIVE_INFINITY, maxRecords: 12 }, 0);
      // Counted with 'gone' the level was 4: a keeps its newest 4, b all 4; gone's cut found nothing left to take.
      assert.deepEqual(countsOf(history.rows), new Map([['a', 4], ['b', 4]]), `gone at ${when}`);
      assert.ok(history.rows.length <= 12);
    }
  });

  it('10,000 apps of one record each against 5,000: the newest 5,000 records stay, one per app', async () => {
    const rows: Row[] = Array.from({ length: 10_000 }, (_, i) => ({ app: `app-${String(i).padStart(5, '0')}`, time: Math.floor(i / 3), id: i + 1 }));
    // Answered from indexes as the stores do: the linear scans of MemoryHistory would take minutes here.
    const byApp = new Map(rows.map((r) => [r.app, r]));
    let live = new Set(rows);
    const steps: PruneSteps = {
      appsPerStep: 1000,
      deleteOlderChunk: () => 0,
      mayExceed: (max) => live.size > max,
      appCounts: (after, limit) =>
        [...byApp.keys()]
          .filter((app) => app > after && live.has(byApp.get(app)!))
          .slice(0, limit)
          .map((app) => ({ app, count: 1 })),
      recordsAtRank: (apps, offset) => new Map(offset === 0 ? apps.flatMap((app) => (live.has(byApp.get(app)!) ? [[app, { time: byApp.get(app)!.time, id: byApp.get(app)!.id }] as const] : [])) : []),
      deleteCutChunk: (cuts) => {
        let n = 0;
        for (const cut of cuts) {
          const row = byApp.get(cut.app)!;
          if (live.has(row) && before(row, cut) && n < PRUNE_CHUNK) {
            live.delete(row);
            n++;
          }
        }
        return n;
      },
    };
    const started = Date.now();
    const deleted = await pruneHistory(steps, { maxAgeMs: Number.POSITIVE_INFINITY, maxRecords: 5_000 }, 0);
    assert.ok(Date.now() - started < 1_500, `took ${Date.now() - started} ms`);
    assert.equal(deleted, 5_000);
    assert.equal(live.size, 5_000);
    const newest = [...rows].sort(newestFirst).slice(0, 5_000);
    assert.deepEqual(new Set(newest), live, 'the newest 5,000 records stay');
    live = new Set();
  });
});
