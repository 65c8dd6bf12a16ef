import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, MAX_DURATION_MS, parseDuration } from '../../src/spec/duration.js';
import { parseSize } from '../../src/spec/size.js';

describe('parseDuration', () => {
  const valid: Array<[string | number, number]> = [
    ['250ms', 250],
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['1m30s500ms', 90_500],
    ['1.5s', 1_500],
    ['1d', 86_400_000],
    ['0s', 0],
    [90, 90_000],
    [0.25, 250],
    [0, 0],
  ];
  for (const [input, ms] of valid) {
    it(`reads ${JSON.stringify(input)} as ${ms} ms`, () => assert.equal(parseDuration(input), ms));
  }

  const invalid: Array<[string | number, RegExp]> = [
    ['', /is not a duration/],
    ['90', /a unit is missing/],
    ['5 m', /is not a duration/],
    ['5min', /is not a duration/],
    ['m5', /is not a duration/],
    ['-5s', /is not a duration/],
    ['1.s', /is not a duration/],
    [-1, /is not a duration/],
    [Number.NaN, /is not a duration/],
    ['30d', /too long: at most 24d20h31m23s/],
    [MAX_DURATION_MS, /too long/],
  ];
  for (const [input, message] of invalid) {
    it(`refuses ${JSON.stringify(input)}`, () => assert.throws(() => parseDuration(input), message));
  }

  it('tells the user which forms are accepted', () => {
    assert.throws(() => parseDuration('soon'), /"soon" is not a duration: use a number of seconds or a string like "250ms", "90s", "5m", "1h30m"/);
  });

  it('accepts the longest duration Node timers can hold', () => {
    assert.equal(parseDuration('24d'), 24 * 86_400_000);
  });

  it('names the bound it enforces: what it says is the most is accepted, a second more is not', () => {
    const said = /at most (\S+)/.exec(thrown(() => parseDuration('25d')))?.[1];
    assert.ok(said, 'the message names a bound');
    assert.equal(parseDuration(said), Math.floor(MAX_DURATION_MS / 1000) * 1000);
    assert.throws(() => parseDuration(`${said}1s`), /too long/);
  });
});

function thrown(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('did not throw');
}

describe('formatDuration', () => {
  const cases: Array<[number, string]> = [
    [250, '250ms'],
    [90_000, '1m30s'],
    [5_400_000, '1h30m'],
    [90_500, '1m30s500ms'],
    [86_400_000, '1d'],
  ];
  for (const [ms, text] of cases) {
    it(`writes ${ms} as ${text}, which reads back`, () => {
      assert.equal(formatDuration(ms), text);
      assert.equal(parseDuration(text), ms);
    });
  }
});

describe('parseSize', () => {
  const valid: Array<[string | number, number]> = [
    [1024, 1024],
    ['100', 100],
    ['100b', 100],
    ['512k', 512 * 1024],
    ['256m', 256 * 2 ** 20],
    ['256M', 256 * 2 ** 20],
    ['256mb', 256 * 2 ** 20],
    ['256MiB', 256 * 2 ** 20],
    ['1g', 2 ** 30],
    ['1.5g', 1.5 * 2 ** 30],
    ['2t', 2 * 2 ** 40],
    ['0.5k', 512],
  ];
  for (const [input, bytes] of valid) {
    it(`reads ${JSON.stringify(input)} as ${bytes} bytes`, () => assert.equal(parseSize(input), bytes));
  }

  const invalid: Array<string | number> = ['', 'm', '1 g', '1x', '1gg', '-1m', 1.5, -1, Number.POSITIVE_INFINITY];
  for (const input of invalid) {
    it(`refuses ${JSON.stringify(input)}`, () => assert.throws(() => parseSize(input), /is not a size: use a number of bytes or a string like "512k", "256m", "1g"/));
  }

  it('refuses sizes beyond exact integers', () => {
    assert.throws(() => parseSize('99999999t'), /is too large/);
  });
});
