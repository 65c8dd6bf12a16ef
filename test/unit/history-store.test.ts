import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BadRequestError, ConfigError, StoreError, httpStatusOf } from '../../src/errors.js';
import Database from 'better-sqlite3';
import { APP_COUNTS_SQL, DELETE_CUT_SQL, DELETE_OLDER_SQL, MAX_FIELD_LENGTHS, PRUNE_CHUNK, RECORDS_AT_RANK_SQL } from '../../src/store/history-rows.js';
import { runMigrations } from '../../src/store/migrations.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { HistoryItem, HistoryQuery, RequestRecord } from '../../src/store/store.js';

let root = '';
before(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'berth-history-'));
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const T0 = 1_700_000_000_000;

function rec(app: string, time: number, extra: Partial<RequestRecord> = {}): RequestRecord {
  return {
    timeMs: time,
    app,
    method: 'GET',
    path: `/session/${app}/t${time}`,
    status: 200,
    durationMs: 1.25,
    bytesIn: 10,
    bytesOut: 200,
    client: '127.0.0.1',
    waited: false,
    instance: 'c0ffee',
    ...extra,
  };
}

async function memory<T>(fn: (store: SqliteStore) => Promise<T>): Promise<T> {
  const store = new SqliteStore({ path: ':memory:' });
  await store.open();
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Every page of a query, following `next`. */
async function allPages(store: SqliteStore, query: HistoryQuery): Promise<HistoryItem[][]> {
  const pages: HistoryItem[][] = [];
  let cursor: string | undefined;
  do {
    const page = await store.queryRequests({ ...query, cursor });
    pages.push(page.items);
    cursor = page.next;
  } while (cursor);
  return pages;
}

const times = (items: HistoryItem[]) => items.map((r) => r.time.getTime());
const paths = (items: ReadonlyArray<{ path: string }>) => items.map((r) => r.path);

describe('SqliteStore request history', () => {
  it('keeps every field of a record and gives them back as they were', async () => {
    await memory(async (store) => {
      const full = rec('web', T0, { method: 'POST', status: 502, durationMs: 12.375, bytesIn: 4096, bytesOut: 0, client: '2001:db8::1', waited: true, instance: 'abc123' });
      const bare = rec('web', T0 + 1, { instance: undefined, status: 0 });
      await store.appendRequests([full, bare]);
      const { items, next } = await store.queryRequests({ app: 'web' });
      assert.equal(next, undefined);
      // Given back with a Date (the API's ISO text), the rest as written.
      const asItem = ({ timeMs, ...rest }: RequestRecord): HistoryItem => ({ ...rest, time: new Date(timeMs) });
      const { instance: _none, ...bareAsStored } = asItem(bare);
      assert.deepEqual(items, [bareAsStored, asItem(full)]);
      assert.equal('instance' in items[0]!, false, 'no instance key when none served it');
      assert.equal(items[1]!.waited, true);
    });
  });

  it('truncates over-long text fields instead of storing them whole', async () => {
    await memory(async (store) => {
      const long = '/x'.repeat(10_000);
      await store.appendRequests([rec('web', T0, { path: long, method: 'M'.repeat(100) })]);
      const [item] = (await store.queryRequests({ app: 'web' })).items;
      assert.equal(item!.path, long.slice(0, MAX_FIELD_LENGTHS.path));
      assert.equal(item!.method.length, MAX_FIELD_LENGTHS.method);
    });
  });

  it('stores nothing of a batch with one record it cannot keep', async () => {
    await memory(async (store) => {
      const bad = rec('web', T0 + 1, { timeMs: Number.NaN });
      await assert.rejects(store.appendRequests([rec('web', T0), bad, rec('web', T0 + 2)]), (err: unknown) => {
        assert.ok(err instanceof StoreError);
        assert.match(err.message, /request record 1 has no valid time/);
        return true;
      });
      assert.deepEqual((await store.queryRequests({ app: 'web' })).items, []);
      await store.appendRequests([]); // an empty batch is fine
    });
  });

  it('answers per app, newest first, ties in time broken by insertion order', async () => {
    await memory(async (store) => {
      await store.appendRequests([rec('a', T0 + 5, { path: 'a5' }), rec('b', T0 + 6), rec('a', T0 + 1, { path: 'a1' })]);
      await store.appendRequests([rec('a', T0 + 5, { path: 'a5-later' }), rec('a', T0 + 3, { path: 'a3' })]);
      assert.deepEqual(paths((await store.queryRequests({ app: 'a' })).items), ['a5-later', 'a5', 'a3', 'a1']);
      assert.equal((await store.queryRequests({ app: 'b' })).items.length, 1);
      assert.deepEqual((await store.queryRequests({ app: 'nobody' })).items, []);
    });
  });

  it('filters by time: since inclusive, until exclusive', async () => {
    await memory(async (store) => {
      await store.appendRequests([10, 20, 30, 40, 50].map((t) => rec('a', T0 + t)));
      const q = (since?: number, until?: number) =>
        store
          .queryRequests({ app: 'a', since: since === undefined ? undefined : new Date(T0 + since), until: until === undefined ? undefined : new Date(T0 + until) })
          .then((p) => times(p.items).map((t) => t - T0));
      assert.deepEqual(await q(20, 40), [30, 20]);
      assert.deepEqual(await q(20), [50, 40, 30, 20]);
      assert.deepEqual(await q(undefined, 20), [10]);
      assert.deepEqual(await q(21, 30), []);
      assert.deepEqual(await q(40, 20), [], 'an empty window is no error');
    });
  });

  it('filters by exact status and by status class', async () => {
    await memory(async (store) => {
      const statuses = [200, 201, 304, 404, 404, 410, 500, 503, 0];
      await store.appendRequests(statuses.map((status, i) => rec('a', T0 + i, { status })));
      const q = async (status: HistoryQuery['status']) => (await store.queryRequests({ app: 'a', status })).items.map((r) => r.status);
      assert.deepEqual(await q(404), [404, 404]);
      assert.deepEqual(await q('4xx'), [410, 404, 404]);
      assert.deepEqual(await q('5xx'), [503, 500]);
      assert.deepEqual(await q('2xx'), [201, 200]);
      assert.deepEqual(await q(0), [0], 'requests the client gave up on');
      assert.deepEqual(await q(418), []);
      // Filters combine.
      const page = await store.queryRequests({ app: 'a', status: '4xx', since: new Date(T0 + 4) });
      assert.deepEqual(page.items.map((r) => r.status), [410, 404]);
    });
  });

  it('pages with a cursor: three stable pages while new records keep arriving', async () => {
    await memory(async (store) => {
      // 250 records of app a, pairs sharing a millisecond, with app b's records interleaved.
      const original = Array.from({ length: 250 }, (_, i) => rec('a', T0 + Math.floor(i / 2), { path: `/a/${i}` }));
      await store.appendRequests(original.flatMap((r, i) => [r, rec('b', T0 + i)]));
      const expected = paths([...original].reverse());

      // 99 a page: each page ends between two records of the same millisecond.
      const first = await store.queryRequests({ app: 'a', limit: 99 });
      assert.equal(first.items.length, 99);
      assert.equal(first.items.at(-1)!.time.getTime(), original[151]!.timeMs);
      assert.equal(first.items.at(-1)!.time.getTime(), original[150]!.timeMs, 'its twin is on the next page');
      assert.ok(first.next);
      // New traffic arrives: newer records, and one in the very millisecond of the page's last record.
      const boundary = first.items.at(-1)!.time.getTime();
      await store.appendRequests([rec('a', T0 + 10_000, { path: '/new/1' }), rec('a', boundary, { path: '/new/same-ms' })]);

      const second = await store.queryRequests({ app: 'a', limit: 99, cursor: first.next });
      assert.equal(second.items.length, 99);
      assert.ok(second.next);
      await store.appendRequests(Array.from({ length: 30 }, (_, i) => rec('a', T0 + 20_000 + i, { path: `/new/batch-${i}` })));

      const third = await store.queryRequests({ app: 'a', limit: 99, cursor: second.next });
      assert.equal(third.items.length, 52);
      assert.equal(third.next, undefined, 'no cursor after the last page');

      assert.deepEqual(paths([...first.items, ...second.items, ...third.items]), expected, 'no record repeated, none skipped');
      // A fresh walk sees the new records first.
      const fresh = await store.queryRequests({ app: 'a', limit: 3 });
      assert.deepEqual(paths(fresh.items), ['/new/batch-29', '/new/batch-28', '/new/batch-27']);
    });
  });

  it('gives no next cursor when the last page is exactly full', async () => {
    await memory(async (store) => {
      await store.appendRequests(Array.from({ length: 20 }, (_, i) => rec('a', T0 + i)));
      const pages = await allPages(store, { app: 'a', limit: 10 });
      assert.deepEqual(pages.map((p) => p.length), [10, 10]);
    });
  });

  it('keeps the time and status filters across pages', async () => {
    await memory(async (store) => {
      await store.appendRequests(Array.from({ length: 100 }, (_, i) => rec('a', T0 + i, { status: i % 3 === 0 ? 404 : 200 })));
      const pages = await allPages(store, { app: 'a', status: 404, since: new Date(T0 + 10), until: new Date(T0 + 90), limit: 7 });
      const all = pages.flat();
      const wanted = Array.from({ length: 100 }, (_, i) => i).filter((i) => i % 3 === 0 && i >= 10 && i < 90).reverse();
      assert.deepEqual(times(all).map((t) => t - T0), wanted);
      assert.equal(pages.length, Math.ceil(wanted.length / 7));
    });
  });

  it('clamps the page size to 1..1000 with 100 by default', async () => {
    await memory(async (store) => {
      await store.appendRequests(Array.from({ length: 1100 }, (_, i) => rec('a', T0 + i)));
      const size = async (limit?: number) => (await store.queryRequests({ app: 'a', limit })).items.length;
      assert.equal(await size(), 100);
      assert.equal(await size(5000), 1000);
      assert.equal(await size(1000), 1000);
      assert.equal(await size(0), 1);
      assert.equal(await size(-3), 1);
      assert.equal(await size(2.7), 2);
      assert.equal(await size(Number.NaN), 100);
      assert.ok((await store.queryRequests({ app: 'a', limit: 5000 })).next, 'more than 1000 records: a next page');
    });
  });

  it('refuses a malformed cursor, status or date as a 400 naming the field', async () => {
    await memory(async (store) => {
      const refused = (query: Partial<HistoryQuery>, field: string) =>
        assert.rejects(store.queryRequests({ app: 'a', ...query }), (err: unknown) => {
          assert.ok(err instanceof BadRequestError, `expected BadRequestError, got ${String(err)}`);
          assert.equal(httpStatusOf(err), 400);
          assert.ok(err.message.startsWith(`query parameter ${field}: `), err.message);
          return true;
        });
      await refused({ cursor: 'not-a-cursor' }, 'cursor');
      await refused({ status: '6xx' as HistoryQuery['status'] }, 'status');
      await refused({ status: 1000 }, 'status');
      await refused({ since: new Date('yesterday') }, 'since');
      await refused({ until: new Date(Number.NaN) }, 'until');
    });
  });

  it('prunes by age: older than now - maxAge goes, the boundary stays', async () => {
    await memory(async (store) => {
      await store.appendRequests(Array.from({ length: 10 }, (_, i) => rec('a', T0 + i * 1000)));
      const now = new Date(T0 + 9000);
      const deleted = await store.pruneRequests({ maxRecords: Number.POSITIVE_INFINITY, maxAgeMs: 4000 }, now);
      assert.equal(deleted, 5);
      assert.deepEqual(times((await store.queryRequests({ app: 'a' })).items).map((t) => t - T0), [9000, 8000, 7000, 6000, 5000]);
      assert.equal(await store.pruneRequests({ maxRecords: Number.POSITIVE_INFINITY, maxAgeMs: 4000 }, now), 0);
    });
  });

  it('prunes by count: only the newest maxRecords of all apps stay', async () => {
    await memory(async (store) => {
      await store.appendRequests(Array.from({ length: 20 }, (_, i) => rec(i % 2 ? 'a' : 'b', T0 + i, { path: `/${i}` })));
      const deleted = await store.pruneRequests({ maxRecords: 7, maxAgeMs: Number.POSITIVE_INFINITY }, new Date(T0));
      assert.equal(deleted, 13);
      const left = [...(await store.queryRequests({ app: 'a' })).items, ...(await store.queryRequests({ app: 'b' })).items];
      assert.deepEqual(left.map((r) => Number(r.path.slice(1))).sort((x, y) => x - y), [13, 14, 15, 16, 17, 18, 19]);
      assert.equal(await store.pruneRequests({ maxRecords: 7, maxAgeMs: Number.POSITIVE_INFINITY }, new Date(T0)), 0);
      assert.equal(await store.pruneRequests({ maxRecords: 0, maxAgeMs: Number.POSITIVE_INFINITY }, new Date(T0)), 7);
      assert.deepEqual((await store.queryRequests({ app: 'a' })).items, []);
    });
  });

  it('prunes by age, then by count, in one call', async () => {
    await memory(async (store) => {
      await store.appendRequests(Array.from({ length: 10 }, (_, i) => rec('a', T0 + i * 1000)));
      const deleted = await store.pruneRequests({ maxRecords: 3, maxAgeMs: 5500 }, new Date(T0 + 9000));
      assert.equal(deleted, 7, '4 too old, then 3 beyond the count');
      assert.deepEqual(times((await store.queryRequests({ app: 'a' })).items).map((t) => t - T0), [9000, 8000, 7000]);
    });
  });

  it('prunes by age exactly, over every app, whatever order a stepped clock wrote the records in', async () => {
    await memory(async (store) => {
      // Written in this order: the clock stepped back 5 s after the third record, then forward 9 s.
      const written = [
        rec('b', T0 + 5000), rec('a', T0 + 6000), rec('a-b', T0 + 7000),
        rec('a', T0 + 1000), rec('b', T0 + 2000), rec('a-b', T0 + 3000), rec('z', T0 + 3999),
        rec('z', T0 + 12000), rec('a', T0 + 4000),
      ];
      await store.appendRequests(written);
      const deleted = await store.pruneRequests({ maxRecords: Number.POSITIVE_INFINITY, maxAgeMs: 8000 }, new Date(T0 + 12000));
      // Older than T0 + 4000 goes, whether written before or after the step; nothing newer, even behind an older one.
      assert.equal(deleted, 4);
      const left = (await Promise.all(['a', 'a-b', 'b', 'z'].map((app) => store.queryRequests({ app })))).flatMap((p) => times(p.items));
      assert.deepEqual(left.map((t) => t - T0).sort((x, y) => x - y), [4000, 5000, 6000, 7000, 12000]);
    });
  });

  it('prunes by age through the per-app index: seeks, never a scan of the table', () => {
    const db = new Database(':memory:');
    try {
      runMigrations(db);
      const plan = db.prepare<[number, number], { detail: string }>(`EXPLAIN QUERY PLAN ${DELETE_OLDER_SQL}`).all(0, PRUNE_CHUNK).map((r) => r.detail);
      assert.ok(plan.some((d) => /SEARCH r USING COVERING INDEX requests_app_time \(app=\? AND time<\?\)/.test(d)), plan.join('\n'));
      assert.ok(!plan.some((d) => /^SCAN requests\b(?! USING COVERING INDEX requests_app_time)/.test(d) || /^SCAN r\b/.test(d)), plan.join('\n'));
    } finally {
      db.close();
    }
  });

  it('prunes by count through the per-app index: counts, ranks and cuts never scan the table', () => {
    const db = new Database(':memory:');
    try {
      runMigrations(db);
      const plan = (sql: string, params: object) => db.prepare<[object], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`).all(params).map((r) => r.detail);
      const counts = plan(APP_COUNTS_SQL, { after: '', limit: 1000 });
      assert.ok(counts.some((d) => /^SEARCH requests USING COVERING INDEX requests_app_time \(app>\?\)$/.test(d)), counts.join('\n'));
      const ranks = plan(RECORDS_AT_RANK_SQL, { apps: '["a"]', offset: 3 });
      assert.ok(ranks.some((d) => /^SEARCH requests USING COVERING INDEX requests_app_time \(app=\?\)$/.test(d)), ranks.join('\n'));
      const cuts = plan(DELETE_CUT_SQL, { cuts: '[["a", 1, 2]]', chunk: PRUNE_CHUNK });
      assert.ok(cuts.some((d) => /^SEARCH r USING COVERING INDEX requests_app_time \(app=\? AND time<\?\)$/.test(d)), cuts.join('\n'));
      for (const d of [...counts, ...ranks, ...cuts]) assert.doesNotMatch(d, /^SCAN (requests|r)\b/);
    } finally {
      db.close();
    }
  });

  it('prunes by age in chunks across apps until none older is left', async () => {
    await memory(async (store) => {
      const n = PRUNE_CHUNK + 300;
      await store.appendRequests(Array.from({ length: n }, (_, i) => rec(`app-${i % 3}`, T0 + i)));
      await store.appendRequests([rec('app-0', T0 + n), rec('app-2', T0 + n + 1)]);
      assert.equal(await store.pruneRequests({ maxRecords: Number.POSITIVE_INFINITY, maxAgeMs: 0 }, new Date(T0 + n)), n);
      const left = (await Promise.all(['app-0', 'app-1', 'app-2'].map((app) => store.queryRequests({ app })))).flatMap((p) => times(p.items));
      assert.deepEqual(left.map((t) => t - T0).sort((x, y) => x - y), [n, n + 1]);
    });
  });

  it('prunes a large history in chunks, letting the event loop run between them', async () => {
    const path = join(root, 'large', 'berth.db');
    const store = new SqliteStore({ path });
    await store.open();
    try {
      const n = 2 * PRUNE_CHUNK + 1500;
      await store.appendRequests(Array.from({ length: n }, (_, i) => rec('a', T0 + i)));
      let loopRan = false;
      const pruning = store.pruneRequests({ maxRecords: 100, maxAgeMs: Number.POSITIVE_INFINITY }, new Date(T0));
      setImmediate(() => (loopRan = true));
      assert.equal(await pruning, n - 100);
      assert.ok(loopRan, 'an immediate scheduled after the prune began ran before it finished');
      const left = await store.queryRequests({ app: 'a', limit: 1000 });
      assert.equal(left.items.length, 100);
      assert.equal(left.items.at(-1)!.time.getTime(), T0 + n - 100);
    } finally {
      await store.close();
    }
  });

  it('refuses a retention that makes no sense', async () => {
    await memory(async (store) => {
      await assert.rejects(store.pruneRequests({ maxRecords: -1, maxAgeMs: 1000 }, new Date()), ConfigError);
      await assert.rejects(store.pruneRequests({ maxRecords: 10, maxAgeMs: Number.NaN }, new Date()), ConfigError);
    });
  });

  it('keeps the history across a reopen of the file', async () => {
    const path = join(root, 'persist', 'berth.db');
    const first = new SqliteStore({ path });
    await first.open();
    await first.appendRequests([rec('a', T0), rec('a', T0 + 1)]);
    await first.close();
    const second = new SqliteStore({ path });
    await second.open();
    try {
      assert.deepEqual(times((await second.queryRequests({ app: 'a' })).items), [T0 + 1, T0]);
    } finally {
      await second.close();
    }
  });
});
