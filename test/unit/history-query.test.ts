import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BadRequestError } from '../../src/errors.js';
import {
  DEFAULT_HISTORY_LIMIT,
  MAX_HISTORY_LIMIT,
  clampLimit,
  decodeCursor,
  encodeCursor,
  historyParams,
  statusRange,
} from '../../src/store/history-query.js';

describe('history query building', () => {
  it('round-trips a cursor through an opaque, URL-safe string', () => {
    const cursor = encodeCursor(1_700_000_000_123, 987_654, 'web');
    assert.match(cursor, /^[A-Za-z0-9_-]+$/);
    assert.ok(!cursor.includes('1700000000123'), 'the cursor does not show its parts');
    assert.deepEqual(decodeCursor(cursor, 'web'), { time: 1_700_000_000_123, id: 987_654 });
  });

  it('refuses cursors that were not made by encodeCursor', () => {
    const good = encodeCursor(1_700_000_000_123, 42, 'web');
    const bad = [
      '',
      'garbage!',
      good.slice(0, -1), // cut mid-character
      `${good}==`, // padded
      `${good.slice(0, 4)}*${good.slice(4)}`, // a character the decoder would skip
      Buffer.from('12:x:web').toString('base64url'),
      Buffer.from('12:34').toString('base64url'), // no app
      Buffer.from('1e3:4:web').toString('base64url'),
      Buffer.from('12:34:web').toString('base64url').slice(0, -1), // cut: it named app "we"
      encodeCursor(1_700_000_000_123, 42, 'api'), // another app's: it skipped this app's newer records
      Buffer.from('app:web;').toString('base64url'), // the app list's
    ];
    for (const cursor of bad) {
      assert.throws(
        () => decodeCursor(cursor, 'web'),
        (err: unknown) => err instanceof BadRequestError && err.message.startsWith('query parameter cursor: '),
        `cursor ${JSON.stringify(cursor)} should be refused`,
      );
    }
  });

  it('turns a status or a class into a range', () => {
    assert.equal(statusRange(undefined), undefined);
    assert.deepEqual(statusRange(404), { low: 404, high: 404 });
    assert.deepEqual(statusRange(0), { low: 0, high: 0 });
    assert.deepEqual(statusRange('4xx'), { low: 400, high: 499 });
    assert.deepEqual(statusRange('1xx'), { low: 100, high: 199 });
    for (const bad of [-1, 1000, 20.5, Number.NaN, '6xx', '4XX', '40x', 'xx']) {
      assert.throws(() => statusRange(bad as never), /^BadRequestError: query parameter status: /, `status ${String(bad)}`);
    }
  });

  it('clamps the limit', () => {
    assert.equal(clampLimit(undefined), DEFAULT_HISTORY_LIMIT);
    assert.equal(clampLimit(Number.POSITIVE_INFINITY), DEFAULT_HISTORY_LIMIT);
    assert.equal(clampLimit(MAX_HISTORY_LIMIT + 1), MAX_HISTORY_LIMIT);
    assert.equal(clampLimit(0), 1);
    assert.equal(clampLimit(9.9), 9);
  });

  it('folds until and the cursor into one upper bound, whichever is lower', () => {
    const until = new Date(5000);
    // No cursor: (until, 0), i.e. time < until.
    assert.deepEqual(pick(historyParams({ app: 'a', until }).params), { beforeTime: 5000, beforeId: 0 });
    // A cursor below until wins.
    const low = encodeCursor(4000, 7, 'a');
    assert.deepEqual(pick(historyParams({ app: 'a', until, cursor: low }).params), { beforeTime: 4000, beforeId: 7 });
    // A cursor above until (a page of an earlier, wider query) does not widen it.
    const high = encodeCursor(6000, 7, 'a');
    assert.deepEqual(pick(historyParams({ app: 'a', until, cursor: high }).params), { beforeTime: 5000, beforeId: 0 });
    // Neither: everything.
    const open = historyParams({ app: 'a' });
    assert.ok(open.params.beforeTime > 8.64e15 && open.params.since < -8.64e15);
    assert.deepEqual([open.params.statusLow, open.params.statusHigh], [null, null]);
    assert.equal(open.params.fetch, open.limit + 1, 'one extra row tells whether there is a next page');
  });
});

function pick(params: { beforeTime: number; beforeId: number }) {
  return { beforeTime: params.beforeTime, beforeId: params.beforeId };
}
