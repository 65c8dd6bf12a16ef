// The history buffer's columns: rows as the history keeps them, no reference to
// the records given, and (a property) any sequence of records, flushes and
// failed writes comes out of the HistoryBuffer equal and in order, with the drops
// counted exactly.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { StoreUnavailableError } from '../../src/errors.js';
import { MAX_FIELD_LENGTHS, recordsOf, rowValues, toColumns, type HistoryColumns } from '../../src/store/history-columns.js';
import { HistoryBuffer } from '../../src/store/history-buffer.js';
import { RecordColumns } from '../../src/store/record-columns.js';
import { StringInterner } from '../../src/store/string-interner.js';
import type { HistoryPage, HistoryRetention, HistoryStore, RequestRecord } from '../../src/store/store.js';

const T0 = 1_700_000_000_000;
const RETENTION: HistoryRetention = { maxRecords: 1000, maxAgeMs: 60_000 };

function rec(i: number, extra: Partial<RequestRecord> = {}): RequestRecord {
  return { timeMs: T0 + i, app: 'web', method: 'GET', path: `/r/${i}`, status: 200, durationMs: 1.5, bytesIn: 0, bytesOut: 2, client: '127.0.0.1', waited: false, ...extra };
}

function columnsOf(records: readonly RequestRecord[], initialCapacity = 1): HistoryColumns {
  const columns = new RecordColumns(initialCapacity);
  for (const r of records) columns.push(r);
  return columns.take();
}

describe('RecordColumns', () => {
  const cases: Array<{ name: string; record: RequestRecord; want: ReturnType<typeof rowValues> }> = [
    { name: 'a full record', record: rec(0, { method: 'POST', status: 502, waited: true, instance: 'abc' }), want: [T0, 'web', 'POST', '/r/0', 502, 1.5, 0, 2, '127.0.0.1', 1, 'abc'] },
    { name: 'no instance', record: rec(1), want: [T0 + 1, 'web', 'GET', '/r/1', 200, 1.5, 0, 2, '127.0.0.1', 0, null] },
    {
      name: 'long text truncated (a long path is not interned)',
      record: rec(2, { path: '/x'.repeat(5000), method: 'M'.repeat(100), client: 'c'.repeat(300), instance: 'i'.repeat(300) }),
      want: [T0 + 2, 'web', 'M'.repeat(MAX_FIELD_LENGTHS.method), '/x'.repeat(5000).slice(0, MAX_FIELD_LENGTHS.path), 200, 1.5, 0, 2, 'c'.repeat(MAX_FIELD_LENGTHS.client), 0, 'i'.repeat(MAX_FIELD_LENGTHS.instance)],
    },
    { name: 'NaN is NULL, integers rounded', record: rec(3, { durationMs: Number.NaN, bytesIn: 2.6, status: 204.4 }), want: [T0 + 3, 'web', 'GET', '/r/3', 204, null, 3, 2, '127.0.0.1', 0, null] },
    { name: 'infinite is NULL', record: rec(4, { bytesOut: Number.POSITIVE_INFINITY }), want: [T0 + 4, 'web', 'GET', '/r/4', 200, 1.5, 0, null, '127.0.0.1', 0, null] },
    { name: 'text that is not a string is NULL', record: rec(5, { method: undefined as unknown as string, client: 7 as unknown as string }), want: [T0 + 5, 'web', null, '/r/5', 200, 1.5, 0, 2, null, 0, null] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(rowValues(columnsOf([c.record]), 0), c.want);
      assert.deepEqual(rowValues(columnsOf([c.record]), 0), rowValues(toColumns([c.record]), 0), 'the same row as toColumns');
    });
  }

  it('copies the record: changing it afterwards changes nothing', () => {
    const columns = new RecordColumns();
    const r = rec(1, { instance: 'a' });
    columns.push(r);
    Object.assign(r, { app: 'other', path: '/changed', status: 500, timeMs: 0, instance: 'b' });
    assert.deepEqual(rowValues(columns.take(), 0), [T0 + 1, 'web', 'GET', '/r/1', 200, 1.5, 0, 2, '127.0.0.1', 0, 'a']);
  });

  it('grows past its first capacity, and take() empties it for the next batch', () => {
    const columns = new RecordColumns(2);
    for (let i = 0; i < 9; i++) columns.push(rec(i));
    const first = columns.take();
    assert.equal(first.length, 9);
    assert.deepEqual(first.path, Array.from({ length: 9 }, (_, i) => `/r/${i}`));
    assert.equal(columns.length, 0);
    columns.push(rec(20));
    const second = columns.take();
    assert.deepEqual([second.length, second.path, Array.from(second.time)], [1, ['/r/20'], [T0 + 20]]);
    assert.deepEqual(Array.from(first.time), Array.from({ length: 9 }, (_, i) => T0 + i), 'a batch taken is not overwritten by later rows');
  });

  it('puts a batch back before the rows held now, from a given row', () => {
    const columns = new RecordColumns(1);
    columns.push(rec(10));
    columns.push(rec(11));
    columns.unshiftColumns(columnsOf([rec(1), rec(2), rec(3)]), 1);
    columns.pushColumns(columnsOf([rec(12)]));
    assert.deepEqual(columns.take().path, ['/r/2', '/r/3', '/r/10', '/r/11', '/r/12']);
  });

  it('reads back as the records it was given (recordsOf)', () => {
    const records = [rec(1, { instance: 'x', waited: true }), rec(2)];
    assert.deepEqual(recordsOf(columnsOf(records)), records);
  });
});

describe('StringInterner', () => {
  it('gives back the value, and starts over past its bound', () => {
    const interner = new StringInterner(2);
    assert.deepEqual(['a', 'b', 'a', 'c', 'd'].map((v) => interner.intern(v)), ['a', 'b', 'a', 'c', 'd']);
    assert.equal(interner.size, 2, 'never more than max distinct values');
  });
});

/** A store whose appends wait for the test to settle them. */
class GatedStore implements HistoryStore {
  written: RequestRecord[] = [];
  private gate?: { resolve: () => void; reject: (err: Error) => void };

  appendColumns(cols: HistoryColumns): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.gate = {
        resolve: () => {
          this.written.push(...recordsOf(cols));
          resolve();
        },
        reject,
      };
    });
  }

  settle(outcome: 'ok' | 'outage' | 'refused'): void {
    const gate = this.gate!;
    this.gate = undefined;
    if (outcome === 'ok') gate.resolve();
    else gate.reject(outcome === 'outage' ? new StoreUnavailableError('the store cannot be reached') : new Error('disk on fire'));
  }

  get waiting(): boolean {
    return this.gate !== undefined;
  }

  async appendRequests(): Promise<void> {
    throw new Error('the buffer writes columns');
  }

  async queryRequests(): Promise<HistoryPage> {
    return { items: [] };
  }

  async pruneRequests(): Promise<number> {
    return 0;
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

const text = (max: number) => fc.string({ maxLength: max });
const validRecord: fc.Arbitrary<RequestRecord> = fc
  .record({
    timeMs: fc.integer({ min: 0, max: 4_102_444_800_000 }),
    app: fc.constantFrom('web', 'api', 'a-very-long-app-name'),
    method: fc.constantFrom('GET', 'POST', 'DELETE'),
    path: fc.oneof(fc.constantFrom('/', '/x?y=1'), text(MAX_FIELD_LENGTHS.path)),
    status: fc.integer({ min: 0, max: 599 }),
    durationMs: fc.double({ noNaN: true, noDefaultInfinity: true }),
    bytesIn: fc.nat(),
    bytesOut: fc.nat(),
    client: fc.oneof(fc.constantFrom('127.0.0.1', '::1'), text(40)),
    waited: fc.boolean(),
    instance: fc.option(text(MAX_FIELD_LENGTHS.instance), { nil: undefined }),
  })
  .map((r): RequestRecord => {
    // A plain object (fast-check's have no prototype), without `instance` when there is none.
    const { instance, ...rest } = r;
    return instance === undefined ? { ...rest } : { ...rest, instance };
  });
/** A record the buffer must refuse (and count): no app, or no valid time. */
const invalidRecord = validRecord.chain((r) => fc.constantFrom<RequestRecord>({ ...r, app: '' }, { ...r, timeMs: Number.NaN }, { ...r, timeMs: Number.POSITIVE_INFINITY }));

type Op =
  | { op: 'record'; record: RequestRecord; valid: boolean }
  /** A flush whose write ends `outcome`, with `during` records arriving while it is under way. */
  | { op: 'flush'; outcome: 'ok' | 'outage' | 'refused'; during: RequestRecord[] };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: validRecord.map((record): Op => ({ op: 'record', record, valid: true })) },
  { weight: 1, arbitrary: invalidRecord.map((record): Op => ({ op: 'record', record, valid: false })) },
  {
    weight: 2,
    arbitrary: fc.record({ outcome: fc.constantFrom<'ok' | 'outage' | 'refused'>('ok', 'ok', 'outage', 'refused'), during: fc.array(validRecord, { maxLength: 6 }) }).map((f): Op => ({ op: 'flush', ...f })),
  },
);

describe('HistoryBuffer over columns (property)', () => {
  it('writes every record it accepted, equal and in order, and counts each one it drops', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 12 }), fc.array(opArb, { maxLength: 60 }), async (maxBuffered, ops) => {
        const store = new GatedStore();
        const buffer = new HistoryBuffer({ store, retention: RETENTION, maxBuffered });
        // The model: what a list of records with the buffer's rules holds, writes and drops.
        let held: RequestRecord[] = [];
        const written: RequestRecord[] = [];
        let dropped = 0;
        const accept = (r: RequestRecord, valid: boolean) => {
          if (!valid || held.length >= maxBuffered) dropped++;
          else held.push(r);
        };
        for (const o of ops) {
          if (o.op === 'record') {
            buffer.record(o.record);
            accept(o.record, o.valid);
            continue;
          }
          if (held.length === 0) continue;
          const flushing = buffer.flush();
          await tick();
          assert.ok(store.waiting, 'the batch is being written');
          const batch = held;
          held = [];
          for (const r of o.during) {
            buffer.record(r);
            accept(r, true);
          }
          store.settle(o.outcome);
          await flushing;
          if (o.outcome === 'ok') written.push(...batch);
          else if (o.outcome === 'refused') dropped += batch.length;
          else {
            // Out of reach: the batch goes back ahead of the newer records, as much of it as maxBuffered leaves room for (its newest).
            const from = Math.max(0, batch.length + held.length - maxBuffered);
            dropped += from;
            held = [...batch.slice(from), ...held];
          }
          assert.equal(buffer.buffered, held.length);
        }
        assert.equal(buffer.dropped, dropped);
        const closing = buffer.close();
        await tick();
        if (store.waiting) store.settle('ok');
        await closing;
        written.push(...held);
        assert.deepEqual(store.written, written);
        assert.equal(buffer.dropped, dropped);
      }),
      { numRuns: 200 },
    );
  });
});
