import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BadRequestError, ConfigError, StoreError } from '../../src/errors.js';
import { MAX_FIELD_LENGTHS } from '../../src/store/history-rows.js';
import { RecordColumns } from '../../src/store/record-columns.js';
import type { HistoryItem, HistoryQuery, RequestRecord, Store } from '../../src/store/store.js';
import { withFixture, type FixtureFactory } from './store-contract.js';

const T0 = 1_700_000_000_000;

function rec(app: string, time: number, extra: Partial<RequestRecord> = {}): RequestRecord {
  return { timeMs: time, app, method: 'GET', path: `/session/${app}/t${time}`, status: 200, durationMs: 1.25, bytesIn: 10, bytesOut: 200, client: '127.0.0.1', waited: false, instance: 'c0ffee', ...extra };
}

async function allPages(store: Store, query: HistoryQuery): Promise<HistoryItem[][]> {
  const pages: HistoryItem[][] = [];
  let cursor: string | undefined;
  do {
    const page = await store.queryRequests({ ...query, cursor });
    pages.push(page.items);
    cursor = page.next;
  } while (cursor);
  return pages;
}

const paths = (items: ReadonlyArray<{ path: string }>) => items.map((r) => r.path);
const times = (items: ReadonlyArray<{ time: Date }>) => items.map((r) => r.time.getTime());

/** The request history and usage parts of the Store contract, for any store. */
export function recordsContract(kind: string, make: FixtureFactory, skip: string | false = false): void {
  describe(`${kind} store contract: history and usage`, { skip }, () => {
    const run = (fn: Parameters<typeof withFixture>[1]) => withFixture(make, fn);

    it('keeps every field of a record (long text truncated) across a reopen', () =>
      run(async (ctx) => {
        // Quotes, commas, braces, backslashes and NULL-looking text: what array encodings get wrong.
        const full = rec('a', T0, { path: '/q?a="x,y"&b={1,2}\\NULL é', method: 'POST', status: 503, durationMs: 12.5, bytesIn: 3, bytesOut: 4, waited: true, client: '10.0.0.1', instance: 'abc' });
        await ctx.store.appendRequests([full, rec('a', T0 + 1, { path: 'x'.repeat(10_000), instance: undefined, client: 'NULL' })]);
        const items = (await (await ctx.reopen()).queryRequests({ app: 'a' })).items;
        assert.equal(items[1]!.time.getTime(), T0);
        const { timeMs: _t, requestId: _r, ...rest } = full;
        assert.deepEqual({ ...items[1]!, time: undefined }, { ...rest, time: undefined });
        assert.equal(items[0]!.path.length, MAX_FIELD_LENGTHS.path);
        assert.equal(items[0]!.instance, undefined);
        assert.equal(items[0]!.client, 'NULL', 'the text NULL is not a null');
      }));

    it('keeps a batch given as columns (the history buffer\'s) exactly as the same records', () =>
      run(async ({ store }) => {
        const batch = [
          rec('a', T0, { path: '/q?a="x,y"&b={1,2}\\NULL é', method: 'POST', status: 503, durationMs: 12.5, waited: true, client: '10.0.0.1' }),
          rec('a', T0 + 1, { path: 'x'.repeat(10_000), instance: undefined, client: 'NULL', status: Number.NaN, bytesIn: 2.6 }),
          rec('a', T0 + 2, { method: 'M'.repeat(100), durationMs: Number.POSITIVE_INFINITY }),
        ];
        await store.appendRequests(batch);
        const columns = new RecordColumns();
        for (const r of batch) columns.push({ ...r, app: 'b' });
        assert.ok(store.appendColumns, 'the store takes columns');
        await store.appendColumns(columns.take());
        const items = async (app: string) => (await store.queryRequests({ app })).items.map(({ app: _app, ...rest }) => rest);
        const fromColumns = await items('b');
        assert.equal(fromColumns.length, 3);
        assert.deepEqual(fromColumns, await items('a'));
      }));

    it('stores nothing of a batch with one record it cannot keep', () =>
      run(async ({ store }) => {
        await assert.rejects(store.appendRequests([rec('a', T0), rec('', T0 + 1)]), StoreError);
        await assert.rejects(store.appendRequests([rec('a', T0), rec('a', Number.NaN)]), StoreError);
        assert.deepEqual((await store.queryRequests({ app: 'a' })).items, []);
      }));

    it('answers per app, newest first, ties broken by insertion order, with time and status filters', () =>
      run(async ({ store }) => {
        await store.appendRequests([rec('a', T0 + 5, { path: 'a5' }), rec('b', T0 + 6), rec('a', T0 + 1, { path: 'a1', status: 404 })]);
        await store.appendRequests([rec('a', T0 + 5, { path: 'a5-later', status: 503 }), rec('a', T0 + 3, { path: 'a3', status: 0 })]);
        const q = async (query: Omit<HistoryQuery, 'app'>) => paths((await store.queryRequests({ app: 'a', ...query })).items);
        assert.deepEqual(await q({}), ['a5-later', 'a5', 'a3', 'a1']);
        assert.deepEqual(await q({ since: new Date(T0 + 3), until: new Date(T0 + 5) }), ['a3']);
        assert.deepEqual(await q({ status: '5xx' }), ['a5-later']);
        assert.deepEqual(await q({ status: 404 }), ['a1']);
        assert.deepEqual(await q({ status: 0 }), ['a3']);
        assert.equal((await store.queryRequests({ app: 'b' })).items.length, 1);
      }));

    it('pages with a cursor, never repeating nor skipping a record', () =>
      run(async ({ store }) => {
        const original = Array.from({ length: 250 }, (_, i) => rec('a', T0 + Math.floor(i / 2), { path: `/a/${i}` }));
        await store.appendRequests(original.flatMap((r, i) => [r, rec('b', T0 + i)]));
        const pages = await allPages(store, { app: 'a', limit: 99 });
        assert.deepEqual(pages.map((p) => p.length), [99, 99, 52]);
        assert.deepEqual(paths(pages.flat()), paths([...original].reverse()));
        const exact = await allPages(store, { app: 'a', limit: 125 });
        assert.deepEqual(exact.map((p) => p.length), [125, 125], 'no empty last page');
      }));

    it('refuses a malformed cursor or status as a 400 naming the field', () =>
      run(async ({ store }) => {
        await assert.rejects(store.queryRequests({ app: 'a', cursor: 'nope' }), (e: unknown) => e instanceof BadRequestError && /cursor/.test(e.message));
        await assert.rejects(store.queryRequests({ app: 'a', status: '7xx' as HistoryQuery['status'] }), BadRequestError);
      }));

    it('prunes by age (the boundary stays), then by count (newest kept)', () =>
      run(async ({ store }) => {
        await store.appendRequests([0, 10, 20, 30, 40, 50].map((t) => rec(t % 20 ? 'a' : 'b', T0 + t)));
        assert.equal(await store.pruneRequests({ maxRecords: Number.POSITIVE_INFINITY, maxAgeMs: 30 }, new Date(T0 + 50)), 2);
        assert.equal(await store.pruneRequests({ maxRecords: 3, maxAgeMs: Number.POSITIVE_INFINITY }, new Date(T0 + 50)), 1);
        const left = [...(await store.queryRequests({ app: 'a' })).items, ...(await store.queryRequests({ app: 'b' })).items];
        assert.deepEqual(left.map((r) => r.time.getTime() - T0).sort((x, y) => x - y), [30, 40, 50]);
        await assert.rejects(store.pruneRequests({ maxRecords: -1, maxAgeMs: 0 }, new Date()), ConfigError);
      }));

    it('one app flooding the history does not push the other apps out of it: the count cap takes from the largest app', () =>
      run(async ({ store }) => {
        const maxRecords = 20;
        // B's few records are older than every one of A's flood of maxRecords + 5.
        await store.appendRequests([0, 1, 2].map((t) => rec('b', T0 + t)));
        await store.appendRequests(Array.from({ length: maxRecords + 5 }, (_, i) => rec('a', T0 + 10 + i)));
        assert.equal(await store.pruneRequests({ maxRecords, maxAgeMs: Number.POSITIVE_INFINITY }, new Date(T0 + 100)), 8);
        assert.deepEqual(times((await store.queryRequests({ app: 'b' })).items), [T0 + 2, T0 + 1, T0]);
        const a = times((await store.queryRequests({ app: 'a', limit: 100 })).items);
        assert.deepEqual(a, Array.from({ length: maxRecords - 3 }, (_, i) => T0 + 10 + maxRecords + 4 - i), 'A keeps its newest 17');
        assert.equal(await store.pruneRequests({ maxRecords, maxAgeMs: Number.POSITIVE_INFINITY }, new Date(T0 + 100)), 0);
      }));

    it('over the count cap every app keeps its newest records down to one level; the largest give way first, a newer record before an older', () =>
      run(async ({ store }) => {
        // a: 10 records, b: 6, c: 2, interleaved in time; 18 in all.
        const written = [
          ...Array.from({ length: 10 }, (_, i) => rec('a', T0 + i * 10)),
          ...Array.from({ length: 6 }, (_, i) => rec('b', T0 + i * 10 + 5)),
          rec('c', T0 + 1), rec('c', T0 + 2),
        ];
        await store.appendRequests(written);
        // 13 kept: c keeps its 2; a and b get 5 each and one more slot goes to whichever has the newer 6th record (a's T0+40 beats b's T0+5).
        assert.equal(await store.pruneRequests({ maxRecords: 13, maxAgeMs: Number.POSITIVE_INFINITY }, new Date(T0)), 5);
        const count = async (app: string) => (await store.queryRequests({ app })).items.length;
        assert.deepEqual([await count('a'), await count('b'), await count('c')], [6, 5, 2]);
        assert.deepEqual(times((await store.queryRequests({ app: 'a' })).items).map((t) => t - T0), [90, 80, 70, 60, 50, 40]);
        assert.deepEqual(times((await store.queryRequests({ app: 'b' })).items).map((t) => t - T0), [55, 45, 35, 25, 15]);
        // 7: the level is 2, c's own count: 2 each, the spare slot to a, whose 3rd newest (T0+70) beats b's (T0+35).
        assert.equal(await store.pruneRequests({ maxRecords: 7, maxAgeMs: Number.POSITIVE_INFINITY }, new Date(T0)), 6);
        assert.deepEqual([await count('a'), await count('b'), await count('c')], [3, 2, 2]);
        // 0 keeps nothing.
        assert.equal(await store.pruneRequests({ maxRecords: 0, maxAgeMs: Number.POSITIVE_INFINITY }, new Date(T0)), 7);
        assert.deepEqual([await count('a'), await count('b'), await count('c')], [0, 0, 0]);
      }));

    it('cuts an app between records of the same millisecond by insertion order', () =>
      run(async ({ store }) => {
        await store.appendRequests([1, 2, 3, 4, 5].map((i) => rec('a', T0, { path: `/${i}` })));
        await store.appendRequests([rec('b', T0 - 1)]);
        assert.equal(await store.pruneRequests({ maxRecords: 3, maxAgeMs: Number.POSITIVE_INFINITY }, new Date(T0)), 3);
        assert.deepEqual(paths((await store.queryRequests({ app: 'a' })).items), ['/5', '/4']);
        assert.equal((await store.queryRequests({ app: 'b' })).items.length, 1);
      }));

    it('saves last request times, replaces moved ones, forgets gone ones, and keeps them across a reopen', () =>
      run(async (ctx) => {
        assert.deepEqual(await ctx.store.lastRequests(), new Map());
        await ctx.store.saveLastRequests([['web', T0], ['api', T0 + 1]], []);
        await ctx.store.saveLastRequests([['web', T0 + 60_000]], ['api', 'never-saved']);
        await assert.rejects(ctx.store.saveLastRequests([['web', T0 + 120_000], ['bad', -1]], []), StoreError);
        const store = await ctx.reopen();
        assert.deepEqual(await store.lastRequests(), new Map([['web', T0 + 60_000]]));
      }));

    it('adds usage per app and day, all rows or none, and filters it', () =>
      run(async (ctx) => {
        const row = (app: string, day: string, n: number) => ({ app, day, runningS: n, pausedS: n / 2, idleS: 1, requests: n });
        await ctx.store.addUsage([row('web', '2026-11-01', 10), row('api', '2026-11-02', 1), row('web', '2026-11-01', 5)]);
        await ctx.store.addUsage([row('web', '2026-11-02', 2)]);
        await assert.rejects(ctx.store.addUsage([row('web', '2026-11-02', 100), row('web', 'yesterday', 1)]), StoreError);
        await assert.rejects(ctx.store.addUsage([row('web', '2026-11-02', 100), { ...row('web', '2026-11-02', 1), requests: 1.5 }]), StoreError);
        const store = await ctx.reopen();
        assert.deepEqual(await store.queryUsage({}), [
          row('api', '2026-11-02', 1),
          { app: 'web', day: '2026-11-01', runningS: 15, pausedS: 7.5, idleS: 2, requests: 15 },
          row('web', '2026-11-02', 2),
        ]);
        assert.deepEqual((await store.queryUsage({ app: 'web', sinceDay: '2026-11-02' })).map((r) => r.day), ['2026-11-02']);
        // Retention: the days before the first kept one go, of every app.
        assert.equal(await store.pruneUsage('2026-11-02'), 1);
        assert.deepEqual((await store.queryUsage({})).map((r) => `${r.app} ${r.day}`), ['api 2026-11-02', 'web 2026-11-02']);
      }));
  });
}
