import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fmt, median, percentile, round, rounded, summary } from '../../bench/lib/stats.js';
import { checkRunId, seconds, wholeNumber } from '../../bench/lib/options.js';
import { stampedName } from '../../bench/lib/run.js';

test('percentile interpolates linearly between closest ranks, whatever the order', () => {
  const cases: Array<[number[], number, number]> = [
    [[1, 2, 3, 4], 50, 2.5],
    [[4, 1, 3, 2], 50, 2.5],
    [[1, 2, 3, 4, 5], 50, 3],
    [[1, 2, 3, 4, 5], 0, 1],
    [[1, 2, 3, 4, 5], 100, 5],
    [[10, 20], 90, 19],
    [[0, 10, 20, 30, 40, 50, 60, 70, 80, 90], 90, 81],
    [[7], 99, 7],
  ];
  for (const [values, p, want] of cases) assert.ok(Math.abs(percentile(values, p) - want) < 1e-9, `p${p} of ${values}: ${percentile(values, p)} ≠ ${want}`);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test('percentile leaves its input alone', () => {
  const values = [3, 1, 2];
  percentile(values, 50);
  assert.deepEqual(values, [3, 1, 2]);
});

test('median is the 50th percentile: the middle, or the mean of the two middles', () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([1, 2, 3, 10]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

test('round keeps NaN and infinities, rounds the rest to the given digits', () => {
  const cases: Array<[number, number | undefined, number]> = [
    [1.23456, undefined, 1.23],
    [1.235, 1, 1.2],
    [1234.5678, 0, 1235],
    [-2.346, 2, -2.35],
    [Infinity, 2, Infinity],
  ];
  for (const [x, digits, want] of cases) assert.equal(round(x, digits), want, `round(${x}, ${digits})`);
  assert.ok(Number.isNaN(round(NaN)));
});

test("fmt gives fixed decimals, '-' for nothing", () => {
  assert.equal(fmt(1.26), '1.3');
  assert.equal(fmt(1.26, 2), '1.26');
  assert.equal(fmt(3, 0), '3');
  assert.equal(fmt(NaN), '-');
  assert.equal(fmt(Infinity), '-');
  assert.equal(fmt(undefined), '-');
});

test('summary: count, median, p90, min, max, rounded to 2 decimals', () => {
  assert.deepEqual(summary([3, 1, 2, 4, 5, 6, 7, 8, 9, 10]), { n: 10, median: 5.5, p90: 9.1, min: 1, max: 10 });
  assert.deepEqual(summary([1 / 3]), { n: 1, median: 0.33, p90: 0.33, min: 0.33, max: 0.33 });
});

test('rounded rounds the number fields only', () => {
  assert.deepEqual(rounded({ ms: 1.23456, name: 'start', n: 2 }), { ms: 1.23, name: 'start', n: 2 });
});

test('wholeNumber: the fallback when unset, a range check otherwise', () => {
  assert.equal(wholeNumber(undefined, 20, 10, 500, 'runs'), 20);
  assert.equal(wholeNumber('', 20, 10, 500, 'runs'), 20);
  assert.equal(wholeNumber('12', 20, 10, 500, 'runs'), 12);
  for (const bad of ['9', '501', '1.5', 'x']) assert.throws(() => wholeNumber(bad, 20, 10, 500, 'runs'), /runs must be a whole number from 10 to 500/);
});

test('seconds reads 8s, 1m and bare numbers', () => {
  assert.equal(seconds('8s', 'd'), 8);
  assert.equal(seconds('2m', 'd'), 120);
  assert.equal(seconds(' 5 ', 'd'), 5);
  assert.throws(() => seconds('1h', 'BENCH_DURATION'), /BENCH_DURATION must be like 8s or 1m/);
});

test('checkRunId takes 4-16 lowercase letters or digits', () => {
  assert.equal(checkRunId('ab12', 'run id'), 'ab12');
  for (const bad of ['abc', 'ABCD', 'ab-cd', 'a'.repeat(17)]) assert.throws(() => checkRunId(bad, 'run id'), /run id must be 4-16/);
});

test('stampedName: the start time in compact ISO form, to the second', () => {
  assert.equal(stampedName('cold-start', new Date('2026-01-02T03:04:05.678Z')), 'cold-start-20260102T030405Z.json');
});
