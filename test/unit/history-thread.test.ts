// The request history's writer thread: the same rows as the in-process writer,
// all or none per batch, everything written on close, main-connection writes
// alongside it, and a crash that restarts it or, repeated, falls back in-process.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreError } from '../../src/errors.js';
import { MAX_FIELD_LENGTHS, rowValues, toColumns } from '../../src/store/history-columns.js';
import { HistoryBuffer } from '../../src/store/history-buffer.js';
import { ROWS_PER_INSERT } from '../../src/store/history-rows.js';
import { HISTORY_THREAD_NICE, fromWire, toWire } from '../../src/store/history-thread-wire.js';
import { ThreadHistoryWriter, type HistoryWriter } from '../../src/store/history-writer.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { exhaustDescriptors } from '../support/fd-exhaust.js';
import type { RequestRecord } from '../../src/store/store.js';

const T0 = 1_700_000_000_000;
let root = '';
let n = 0;
before(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'berth-history-thread-'));
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

function rec(app: string, time: number, extra: Partial<RequestRecord> = {}): RequestRecord {
  return { timeMs: time, app, method: 'GET', path: `/p${time}`, status: 200, durationMs: 1.25, bytesIn: 10, bytesOut: 200, client: '127.0.0.1', waited: false, instance: 'c0ffee', ...extra };
}

async function fileStore(): Promise<SqliteStore> {
  const store = new SqliteStore({ path: join(root, `s${n++}`, 'berth.db') });
  await store.open();
  return store;
}

/** Records that exercise every conversion: missing and odd fields, long text, fractions. */
const ODD: RequestRecord[] = [
  rec('web', T0, { method: 'POST', status: 502, durationMs: 12.375, bytesIn: 4096, bytesOut: 0, client: '2001:db8::1', waited: true, instance: 'abc123' }),
  rec('web', T0 + 1, { instance: undefined, status: 0 }),
  rec('web', T0 + 2, { path: '/x'.repeat(5000), method: 'M'.repeat(100), client: 'c'.repeat(300) }),
  rec('web', T0 + 3, { durationMs: Number.NaN, bytesIn: 2.6, status: 204.4 }),
  rec('web', T0 + 4, { bytesOut: Number.POSITIVE_INFINITY }),
];

describe('history columns', () => {
  const cases: Array<{ name: string; record: RequestRecord; want: ReturnType<typeof rowValues> }> = [
    { name: 'a full record', record: ODD[0]!, want: [T0, 'web', 'POST', '/p1700000000000', 502, 12.375, 4096, 0, '2001:db8::1', 1, 'abc123'] },
    { name: 'no instance', record: ODD[1]!, want: [T0 + 1, 'web', 'GET', '/p1700000000001', 0, 1.25, 10, 200, '127.0.0.1', 0, null] },
    { name: 'long text truncated', record: ODD[2]!, want: [T0 + 2, 'web', 'M'.repeat(MAX_FIELD_LENGTHS.method), '/x'.repeat(5000).slice(0, MAX_FIELD_LENGTHS.path), 200, 1.25, 10, 200, 'c'.repeat(MAX_FIELD_LENGTHS.client), 0, 'c0ffee'] },
    { name: 'NaN is NULL, integers rounded', record: ODD[3]!, want: [T0 + 3, 'web', 'GET', '/p1700000000003', 204, null, 3, 200, '127.0.0.1', 0, 'c0ffee'] },
    { name: 'infinite is NULL', record: ODD[4]!, want: [T0 + 4, 'web', 'GET', '/p1700000000004', 200, 1.25, 10, null, '127.0.0.1', 0, 'c0ffee'] },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(rowValues(toColumns([c.record]), 0), c.want));

  it('refuses a batch with a record without a valid time or app, naming it', () => {
    assert.throws(() => toColumns([rec('a', T0), rec('a', Number.NaN)]), /request record 1 has no valid time/);
    assert.throws(() => toColumns([rec('', T0)]), /request record 0 has no app/);
  });
});

describe('the batch on its way to the thread', () => {
  it('carries each distinct text once, and the thread gets every row back as it was', () => {
    const records = [...ODD, ...Array.from({ length: 100 }, (_, i) => rec('api', T0 + 10 + i, { path: i % 2 === 0 ? '/a' : '/b' }))];
    const cols = toColumns(records);
    const { wire, transfer } = toWire(cols);
    // web, api, the methods, the paths, the clients, the instances: each once, however many rows name it.
    assert.equal(new Set(wire.texts).size, wire.texts.length);
    assert.ok(wire.texts.length <= 20, `${wire.texts.length} texts for ${records.length} rows`);
    assert.equal(transfer.length, 5, 'the five code columns are transferred');
    // A structured clone (what postMessage does), with the code buffers moved, not copied.
    const cloned = structuredClone(wire, { transfer });
    assert.equal(wire.app.length, 0, 'the codes were transferred');
    const back = fromWire(cloned);
    for (let i = 0; i < records.length; i++) assert.deepEqual(rowValues(back, i), rowValues(cols, i), `row ${i}`);
    assert.equal(back.instance[1], null, 'NULL stays NULL');
  });

  it('codes runs, a NULL inside a run, and a value met again after another, each as its own text', () => {
    const instances = ['i1', 'i1', undefined, 'i1', 'i2', 'i2', 'i1', undefined, 'i2'];
    const records = instances.map((instance, i) => rec(i < 4 ? 'web' : 'api', T0 + i, { instance }));
    const cols = toColumns(records);
    const { wire } = toWire(cols);
    const back = fromWire(structuredClone(wire));
    assert.deepEqual(back.instance, instances.map((i) => i ?? null));
    assert.deepEqual(back.app, records.map((r) => r.app));
    assert.equal(new Set(wire.texts).size, wire.texts.length, 'each distinct text once');
  });
});

describe('SqliteStore history through the writer thread', () => {
  it('stores the same rows as the in-process writer', async () => {
    const memory = new SqliteStore({ path: ':memory:' });
    await memory.open();
    const file = await fileStore();
    try {
      assert.ok(file.historyWriter instanceof ThreadHistoryWriter);
      await memory.appendRequests(ODD);
      await file.appendRequests(ODD);
      assert.deepEqual((await file.queryRequests({ app: 'web' })).items, (await memory.queryRequests({ app: 'web' })).items);
    } finally {
      await memory.close();
      await file.close();
    }
  });

  it('stores a batch of several whole insert groups and a remainder row for row, in order', async () => {
    // ROWS_PER_INSERT rows go in one statement: two whole groups and a remainder, with odd fields
    // anywhere in a group and equal times (the order between them is the insertion order).
    const batch = Array.from({ length: ROWS_PER_INSERT * 2 + 5 }, (_, i) => ({ ...ODD[i % ODD.length]!, timeMs: T0 + Math.floor(i / 3), path: `/r${i}` }));
    const memory = new SqliteStore({ path: ':memory:' });
    await memory.open();
    const file = await fileStore();
    try {
      await memory.appendRequests(batch);
      await file.appendRequests(batch);
      const got = (await file.queryRequests({ app: 'web', limit: 1000 })).items;
      assert.equal(got.length, batch.length);
      assert.deepEqual(got.map((r) => r.path), batch.map((r) => r.path).reverse());
      assert.deepEqual(got, (await memory.queryRequests({ app: 'web', limit: 1000 })).items);
    } finally {
      await memory.close();
      await file.close();
    }
  });

  it('stores nothing of a batch with one record it cannot keep', async () => {
    const store = await fileStore();
    try {
      await assert.rejects(store.appendRequests([rec('a', T0), rec('a', Number.NaN)]), StoreError);
      assert.deepEqual((await store.queryRequests({ app: 'a' })).items, []);
    } finally {
      await store.close();
    }
  });

  it('writes every batch given before close, then lets the file be reopened', async () => {
    const store = await fileStore();
    const writes = Array.from({ length: 20 }, (_, b) => store.appendRequests(Array.from({ length: 500 }, (_, i) => rec('a', T0 + b * 500 + i))));
    await store.close();
    await Promise.all(writes);
    const again = new SqliteStore({ path: store.path, historyThread: false });
    await again.open();
    try {
      const page = await again.queryRequests({ app: 'a', limit: 1 });
      assert.equal(page.items[0]!.time.getTime(), T0 + 9999);
      assert.equal(await again.pruneRequests({ maxRecords: 0, maxAgeMs: Number.POSITIVE_INFINITY }, new Date()), 10_000);
    } finally {
      await again.close();
    }
  });

  it('lets the main connection write while the thread writes (busy_timeout on both)', async () => {
    const store = await fileStore();
    try {
      const writes: Array<Promise<void>> = [];
      for (let i = 0; i < 20; i++) {
        writes.push(store.appendRequests(Array.from({ length: 1000 }, (_, j) => rec('a', T0 + i * 1000 + j))));
        await store.addUsage([{ app: 'a', day: '2026-01-10', runningS: 1, pausedS: 0, idleS: 0, requests: 1 }]);
      }
      await Promise.all(writes);
      assert.equal((await store.queryUsage({}))[0]!.requests, 20);
      assert.equal(await store.pruneRequests({ maxRecords: 0, maxAgeMs: Number.POSITIVE_INFINITY }, new Date()), 20_000);
    } finally {
      await store.close();
    }
  });

  it('fires onWritten once the rows can be read', async () => {
    const store = await fileStore();
    const seen: number[] = [];
    const buffer = new HistoryBuffer({
      store,
      retention: { maxRecords: 1000, maxAgeMs: Number.POSITIVE_INFINITY },
      onWritten: (batch) => {
        seen.push(batch.length);
        void store.queryRequests({ app: 'a' }).then((page) => seen.push(page.items.length));
      },
    });
    try {
      buffer.record(rec('a', T0));
      buffer.record(rec('a', T0 + 1));
      await buffer.close();
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(seen, [2, 2]);
    } finally {
      await store.close();
    }
  });
});

/** The nice value of each thread of this process (Linux /proc), by thread id. */
async function threadNices(): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const tid of await fs.readdir('/proc/self/task')) {
    const stat = await fs.readFile(`/proc/self/task/${tid}/stat`, 'utf8').catch(() => '');
    if (stat === '') continue; // ended meanwhile
    // Fields after the command name (which may hold spaces) start at field 3; nice is field 19.
    out.set(Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
  }
  return out;
}

describe('the writer thread yields to the proxy', () => {
  it('runs at a lower priority (nice HISTORY_THREAD_NICE) than the gateway, whose own threads keep theirs', async () => {
    const before = await threadNices();
    const mainNice = before.get(process.pid)!;
    const store = await fileStore();
    try {
      await store.appendColumns!(toColumns([rec('a', T0)]));
      const after = await threadNices();
      const lowered = [...after].filter(([tid, nice]) => !before.has(tid) && nice === Math.min(19, mainNice + HISTORY_THREAD_NICE));
      assert.equal(lowered.length, 1, `one new thread at nice ${mainNice + HISTORY_THREAD_NICE}: ${JSON.stringify([...after])}`);
      assert.equal(after.get(process.pid), mainNice, 'the main thread keeps its priority');
    } finally {
      await store.close();
    }
  });
});

describe('ThreadHistoryWriter crashes', () => {
  /** A fallback that only counts what it is given. */
  function countingFallback() {
    const fallback = { appended: 0, async append(records: readonly RequestRecord[]) { fallback.appended += records.length; }, async prune() { return 0; }, async close() {} };
    return fallback satisfies HistoryWriter;
  }

  it('starts a new thread after a crash, and gives up for the fallback after maxCrashes', async () => {
    const store = await fileStore();
    const fallback = countingFallback();
    const logged: string[] = [];
    const logger = { error: (_: unknown, msg: string) => logged.push(msg) } as never;
    const writer = new ThreadHistoryWriter({ path: store.path, busyTimeoutMs: 5000, fallback, logger, maxCrashes: 2 });
    try {
      await writer.append([rec('a', T0)]);
      await writer.kill(); // crash 1: logged, restarted with the next batch
      await writer.append([rec('a', T0 + 1)]);
      assert.equal(writer.inProcess, false);
      assert.equal((await store.queryRequests({ app: 'a' })).items.length, 2);
      await writer.kill(); // crash 2 within the window: the fallback writes from now on
      assert.equal(writer.inProcess, true);
      await writer.append([rec('a', T0 + 2)]);
      assert.equal(fallback.appended, 1);
      assert.equal(logged.length, 2);
    } finally {
      await writer.close();
      await store.close();
    }
  });

  it('counts two crashes a moment apart as close, whatever the wall clock did between them', async () => {
    const store = await fileStore();
    const realNow = Date.now;
    let stepMs = 0;
    Date.now = () => realNow() + stepMs;
    const writer = new ThreadHistoryWriter({ path: store.path, busyTimeoutMs: 5000, fallback: countingFallback(), logger: { error: () => undefined } as never, maxCrashes: 2 });
    try {
      await writer.append([rec('a', T0)]);
      await writer.kill();
      stepMs = 2 * 3_600_000; // an NTP step or a resumed VM, between the two crashes
      await writer.append([rec('a', T0 + 1)]);
      await writer.kill();
      assert.equal(writer.inProcess, true, 'the second crash within the window gives the thread up');
    } finally {
      Date.now = realNow;
      await writer.close();
      await store.close();
    }
  });

  it('a thread that cannot start for want of descriptors is no crash: the batches go in-process a moment, then to a thread again', async () => {
    const store = await fileStore();
    const fallback = countingFallback();
    const logged: string[] = [];
    const logger = { error: (_: unknown, msg: string) => logged.push(`error: ${msg}`), warn: (_: unknown, msg: string) => logged.push(`warn: ${msg}`) } as never;
    const writer = new ThreadHistoryWriter({ path: store.path, busyTimeoutMs: 5000, fallback, logger, maxCrashes: 2 });
    try {
      let failed = 0;
      const shortage = exhaustDescriptors();
      try {
        for (let i = 0; i < 3; i++) await writer.append([rec('a', T0 + i)]).catch(() => failed++);
      } finally {
        shortage.release();
      }
      // Before, each batch's thread failed to start and counted as a crash: the thread was given up for good.
      assert.equal(writer.inProcess, false, 'the thread is not given up');
      assert.ok(failed >= 1 && failed + fallback.appended === 3, `failed ${failed}, in-process ${fallback.appended}`);
      assert.deepEqual(logged, ['warn: the history writer thread could not start (out of file descriptors); the history is written in-process until it can'], 'said once');
      // Once the pause is over, a batch goes to a thread of its own again (the fallback here only counts).
      const deadline = performance.now() + 10_000;
      let written = 0;
      for (let t = T0 + 100; written === 0 && performance.now() < deadline; t++) {
        await writer.append([rec('b', t)]);
        written = (await store.queryRequests({ app: 'b' })).items.length;
        if (written === 0) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(written > 0, 'a thread writes again once descriptors are back');
    } finally {
      await writer.close();
      await store.close();
    }
  });

  it('fails what a dying thread had not answered, as a StoreError', async () => {
    const store = await fileStore();
    const writer = new ThreadHistoryWriter({ path: store.path, busyTimeoutMs: 5000, fallback: countingFallback() });
    try {
      await writer.append([rec('a', T0)]); // the thread is up
      const pending = writer.append(Array.from({ length: 5000 }, (_, i) => rec('a', T0 + i)));
      const killed = writer.kill();
      // Written before the kill landed, or failed as a whole: never half.
      const outcome = await pending.then(() => 'written', (err: unknown) => (err instanceof StoreError ? 'failed' : 'other'));
      await killed;
      assert.notEqual(outcome, 'other');
      const count = (await store.queryRequests({ app: 'a', limit: 1000 })).items.length;
      assert.ok(count === 1 || count === 1000, `all or none of the batch: ${count}`);
    } finally {
      await writer.close();
      await store.close();
    }
  });
});
