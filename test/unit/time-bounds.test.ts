/**
 * Durations and times users give, at their edges: a retention of a month is not a
 * timer and is taken; one of a million years is refused naming its field (it made
 * every usage prune throw, and an HSTS max-age came out as `1e+21`); a `since` of
 * "5" is refused rather than read as May 2001, a zone-less time is UTC, and a
 * `since` too far back is a 400, not a 500.
 */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { describe, it } from 'node:test';
import { instantOf, timeParam } from '../../src/api/query-params.js';
import { buildConfig } from '../../src/config/load-config.js';
import { localInstant, localTime, preciseDuration } from '../../src/cli/format.js';
import { BadRequestError } from '../../src/errors.js';
import { MAX_LONG_DURATION_MS, parseLongDuration } from '../../src/spec/duration.js';
import { parseSpecObject } from '../../src/spec/index.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');

describe('long durations (retentions, windows)', () => {
  it('take months and years, up to 100 years', () => {
    assert.equal(parseLongDuration('400d'), 400 * 86_400_000);
    assert.equal(parseLongDuration('36500d'), MAX_LONG_DURATION_MS);
    assert.throws(() => parseLongDuration('36501d'), /"36501d" is too long: at most 36500d \(100 years\)/);
    assert.throws(() => parseLongDuration(1e300), /too long/);
  });

  it('history.maxAge takes a month (a retention, not a timer)', async () => {
    const config = await buildConfig({ history: { maxAge: '30d' } }, tmpdir());
    assert.equal(config.history.maxAgeMs, 30 * 86_400_000);
  });

  it('a default idle timeout of 0 is refused, as a spec idleTimeout of 0 is (it stopped every app as soon as its last request ended)', async () => {
    await assert.rejects(buildConfig({ defaults: { idleTimeout: 0 } }, tmpdir()), /defaults\.idleTimeout: must be longer than 0/);
    await assert.rejects(buildConfig({ defaults: { idleTimeout: '0s' } }, tmpdir()), /defaults\.idleTimeout: must be longer than 0/);
    await assert.rejects(buildConfig({ defaults: { idleTimeout: '25d' } }, tmpdir()), /defaults\.idleTimeout: "25d" is too long: at most 24d20h31m23s/);
    assert.equal((await buildConfig({ defaults: { idleTimeout: '24d' } }, tmpdir())).defaults.idleTimeoutMs, 24 * 86_400_000);
  });

  it('a retention past 100 years is refused naming the field', async () => {
    await assert.rejects(buildConfig({ usage: { maxAge: '999999999999d' } }, tmpdir()), /usage\.maxAge: "999999999999d" is too long/);
    await assert.rejects(buildConfig({ history: { maxAge: '99999999d' } }, tmpdir()), /history\.maxAge: "99999999d" is too long/);
    await assert.rejects(buildConfig({ tls: { listen: '127.0.0.1:0', acme: { email: 'a@example.com', directory: 'https://acme.example/d', renewBefore: 1e300 } } }, tmpdir()), /acme\.renewBefore: .* too long/);
  });

  it('an HSTS max-age past 100 years is refused, one of 2 years is kept in whole seconds', () => {
    const base = { apiVersion: 'berth/v1', name: 'web', image: 'berth-example/hello:latest', port: 8080 };
    assert.throws(() => parseSpecObject({ ...base, hsts: { maxAge: '99999999999999d' } }), /hsts\.maxAge.*too long/);
    const spec = parseSpecObject({ ...base, hsts: { maxAge: '730d' } });
    assert.equal(spec.hsts?.maxAgeS, 730 * 86_400);
  });
});

describe('since / until', () => {
  const at = (value: string) => timeParam(new URLSearchParams({ since: value }), 'since', NOW);

  it('reads durations back from now, in every form a spec takes', () => {
    assert.equal(at('15m')?.toISOString(), '2026-12-01T11:45:00.000Z');
    assert.equal(at('1h30m')?.toISOString(), '2026-12-01T10:30:00.000Z');
    assert.equal(at('7d')?.toISOString(), '2026-11-24T12:00:00.000Z');
    assert.equal(at('250ms')?.getTime(), NOW - 250);
  });

  it('reads ISO times; one without an offset is UTC, whatever the gateway\'s zone', () => {
    assert.equal(at('2026-11-30')?.toISOString(), '2026-11-30T00:00:00.000Z');
    assert.equal(at('2026-11-30T10:00')?.toISOString(), '2026-11-30T10:00:00.000Z');
    assert.equal(at('2026-11-30 10:00:05.250')?.toISOString(), '2026-11-30T10:00:05.250Z');
    assert.equal(at('2026-11-30T10:00:00+02:00')?.toISOString(), '2026-11-30T08:00:00.000Z');
    assert.equal(at('2026-11-30T10:00:00Z')?.toISOString(), '2026-11-30T10:00:00.000Z');
  });

  it('reads the years 0 to 99 as written, not as 1900 to 1999 (since=0000-01-01 is "from the start")', () => {
    assert.equal(at('0000-01-01')?.getTime(), Date.parse('0000-01-01T00:00:00Z'));
    assert.equal(at('0099-12-31T23:00')?.getTime(), Date.parse('0099-12-31T23:00:00Z'));
    assert.equal(at('0004-02-29')?.getTime(), Date.parse('0004-02-29T00:00:00Z'), 'the year 4 was a leap year');
  });

  const refused: Array<[string, RegExp]> = [
    ['5', /got "5" \(a unit is missing\)$/],
    ['-1', /got "-1" \(a unit is missing\)$/],
    ['12', /a unit is missing/],
    ['March 7', /got "March 7"$/],
    ['1 2', /got "1 2"$/],
    ['2026-02-30', /got "2026-02-30"$/],
    ['2026-13-01', /got "2026-13-01"$/],
    ['0001-02-29', /got "0001-02-29"$/],
    ['0100-02-29', /got "0100-02-29"$/],
    ['yesterday', /got "yesterday"$/],
    ['99999999999d', /got "99999999999d"$/],
  ];
  for (const [value, message] of refused) {
    it(`refuses ${JSON.stringify(value)} with a 400 naming the parameter`, () => {
      assert.throws(() => at(value), (err: unknown) => err instanceof BadRequestError && /^query parameter since: expected an ISO time or a duration like 15m/.test(err.message) && message.test(err.message));
    });
  }

  it('absent or empty is no bound', () => {
    assert.equal(timeParam(new URLSearchParams(''), 'since', NOW), undefined);
    assert.equal(timeParam(new URLSearchParams('since='), 'since', NOW), undefined);
    assert.equal(instantOf('36500d', NOW)?.getTime(), NOW - MAX_LONG_DURATION_MS);
  });
});

describe('times and durations the CLI shows and takes', () => {
  it('a long request reads in hours, not hundreds of minutes; 59.96 s is a minute', () => {
    assert.equal(preciseDuration(3 * 3_600_000 + 12_000), '3h 0m 12s');
    assert.equal(preciseDuration(26 * 3_600_000 + 61_000), '26h 1m 1s');
    assert.equal(preciseDuration(59_960), '1m 0s');
    assert.equal(preciseDuration(999.7), '1.0 s');
    assert.equal(preciseDuration(252_000), '4m 12s');
  });

  it('berth history --since reads a zone-less time in the local zone, as its TIME column prints it', () => {
    const zone = process.env.TZ;
    process.env.TZ = 'Europe/Berlin';
    try {
      const shown = localTime('2026-11-23T13:02:07.000Z');
      assert.equal(shown, '2026-11-23 14:02:07');
      assert.equal(localInstant(shown), '2026-11-23T13:02:07.000Z');
      assert.equal(localInstant('2026-07-01T10:00:00.5'), '2026-07-01T08:00:00.500Z');
      assert.equal(localInstant('2026-11-23'), '2026-11-22T23:00:00.000Z');
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
    // With a zone, a duration, or anything it cannot read, the value goes as typed (the API reads or refuses it).
    for (const typed of ['2026-11-23T14:02:07Z', '2026-11-23T14:02:07+02:00', '15m', '5', '2026-02-30', '2026-11-23 25:00']) {
      assert.equal(localInstant(typed), typed);
    }
  });
});
