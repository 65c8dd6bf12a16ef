import { test } from 'node:test';
import assert from 'node:assert/strict';
import { padRow, table } from '../../bench/lib/table.js';
import { findWrkJson, wrkErrorCount, type WrkJson } from '../../bench/lib/wrk.js';
import { labelOf, parseTimeMaxRss, parseWrk, roundOf, targetResult, type Meta, type TargetResult } from '../../bench/report-figures.js';
import { berthRatios, pairedByRound, ratios, render, verdictOf } from '../../bench/report-render.js';
import { nginxConf } from '../../bench/replicas-nginx.js';
import { analyseUpdate } from '../../bench/replicas-update.js';
import type { LoadRecord } from '../../bench/replicas-load.js';

const WRK: WrkJson = {
  requests: 100_000,
  duration_us: 10_000_000,
  bytes: 1,
  errors: { connect: 0, read: 1, write: 0, status: 2, timeout: 3 },
  latency_us: { mean: 500, p50: 400, p90: 800, p99: 1500, max: 9000 },
};

test('padRow: the first `left` cells padded on the right, the rest on the left, two spaces apart', () => {
  assert.equal(padRow(['a', '1', '22'], [3, 4, 4]), 'a       1    22');
  assert.equal(padRow(['a', 'b', '1'], [2, 2, 3], 2), 'a   b     1');
});

test('table: widths from the widest cell in code points, a rule under the header', () => {
  assert.equal(table([['target', 'req/s'], ['berth', '12345'], ['µ', '1']]), ['target  req/s', '------  -----', 'berth   12345', 'µ           1'].join('\n'));
});

test('findWrkJson: the WRK_JSON line among the rest of the output, undefined without one', () => {
  const text = `Running 10s test\n  1 threads\nWRK_JSON ${JSON.stringify(WRK)}\n`;
  assert.deepEqual(findWrkJson(text), WRK);
  assert.equal(findWrkJson('Running 10s test\n'), undefined);
  assert.deepEqual(parseWrk(text), WRK);
  assert.throws(() => parseWrk('nothing'), /no WRK_JSON line/);
});

test('wrkErrorCount adds every kind', () => {
  assert.equal(wrkErrorCount(WRK.errors), 6);
});

test('parseTimeMaxRss reads /usr/bin/time -v', () => {
  assert.equal(parseTimeMaxRss('\tCommand being timed: "nginx"\n\tMaximum resident set size (kbytes): 5120\n'), 5120);
  assert.equal(parseTimeMaxRss('nothing'), undefined);
});

const meta = (round: number, cpuTicks: number): Meta => ({
  target: 'berth',
  round,
  url: 'http://127.0.0.1:1/',
  pids: [1],
  cpuTicks,
  backendCpuTicks: 100,
  machineBusyTicks: 1000,
  wrkCpuS: 2,
  clockTicksPerSecond: 100,
  vmHwmKb: 4096,
});

test('roundOf: per-request CPU, cores and the other work left over', () => {
  const r = roundOf(WRK, meta(1, 500), false);
  assert.equal(r.requestsPerSecond, 10_000);
  assert.equal(r.cpuUsPerRequest, 50); // 5 s over 100k requests
  assert.equal(r.cpuCores, 0.5);
  assert.equal(r.backendCpuUsPerRequest, 10);
  assert.equal(r.errors, 6);
  assert.equal(r.otherCores, 0.2); // (10 - 5 - 1 - 2) s over 10 s
  assert.equal(roundOf(WRK, meta(1, 500), true).otherCores, 0.3, 'direct: the backend is the measured process');
});

test('roundOf and ratios: the kernel\'s share of the CPU, and user-space CPU compared apart', () => {
  assert.ok(Number.isNaN(roundOf(WRK, meta(1, 500), false).kernelUsPerRequest), 'results from before systemTicks was read');
  const berth = targetResult('berth-serve', 'http://127.0.0.1:1/', [roundOf(WRK, { ...meta(1, 500), systemTicks: 300 }, false)]);
  const nginx = targetResult('nginx', 'http://127.0.0.1:1/', [roundOf(WRK, { ...meta(1, 250), systemTicks: 200 }, false)]);
  assert.equal(berth.kernelUsPerRequest, 30); // 3 s of the 5 over 100k requests
  const r = ratios(berth, nginx);
  assert.equal(r.cpuPerRequest, 2);
  assert.equal(r.userCpuPerRequest, 4); // (50 - 30) / (25 - 20)
  assert.match(render([berth, nginx], [r], undefined, 'setup'), /kernel µs\/req[\s\S]*user CPU\/req[\s\S]*4\.00×/);
});

function result(target: string, rps: number, cpuTicks: number, p99 = WRK.latency_us.p99): TargetResult {
  const w = { ...WRK, requests: rps * 10, latency_us: { ...WRK.latency_us, p99 } };
  return targetResult(target, 'http://127.0.0.1:1/', [roundOf(w, meta(1, cpuTicks), false), roundOf(w, meta(2, cpuTicks * 2), false), roundOf(w, meta(3, cpuTicks * 3), false)]);
}

test('targetResult: medians and ranges over the rounds', () => {
  const serve = result('berth-serve', 40_000, 100);
  assert.equal(serve.requestsPerSecond, 40_000);
  assert.equal(serve.cpuUsPerRequest, 5); // the median round: 2 s over 400k requests
  assert.deepEqual(serve.spread.cpuUsPerRequest, [2.5, 7.5]);
  assert.equal(serve.label, 'berth serve');
  assert.equal(labelOf('berth-serve-w2'), 'berth serve, workers 2');
  assert.equal(labelOf('berth-proxy'), 'berth bare proxy');
});

test('berthRatios: the serve rows against every other row, the bare proxy against the peers', () => {
  const rows = ['direct', 'nginx', 'berth-proxy', 'berth-serve-w1', 'berth-serve-w2'].map((t) => result(t, 10_000, 100));
  assert.deepEqual(
    berthRatios(rows).map((r) => `${r.of}/${r.vs}`),
    ['berth-proxy/direct', 'berth-proxy/nginx', 'berth-serve-w1/direct', 'berth-serve-w1/nginx', 'berth-serve-w1/berth-proxy', 'berth-serve-w2/direct', 'berth-serve-w2/nginx', 'berth-serve-w2/berth-proxy'],
  );
  const r = ratios(result('berth-serve', 40_000, 100), result('chp', 5000, 100));
  assert.equal(r.throughput, 8);
  assert.equal(r.rss, 1);
});

test('verdictOf: the four targets of the full gateway, PASS and MISS', () => {
  const serve = result('berth-serve', 40_000, 110, 2400); // CPU 5.5 µs/req (4.76 for the bare proxy, 0.89 for nginx), p99 2.4 ms
  const rows = [result('direct', 50_000, 100, 1500), result('nginx', 45_000, 20), result('chp', 5000, 100), result('berth-proxy', 42_000, 100), serve];
  const verdict = verdictOf(new Map(rows.map((r) => [r.target, r])))!;
  assert.deepEqual(
    verdict.checks.map((c) => [c.name, c.met]),
    [
      ['CPU/request vs the bare proxy', true], // 1.16×
      ['CPU/request vs nginx', false], // 6.19×
      ['throughput vs configurable-http-proxy', true], // 8×
      ['p99 over direct (c50, saturated)', true], // +0.9 ms
    ],
  );
  assert.equal(verdict.met, false);
  // With paced runs, the p99 target is read from them (and the saturated figure stays beside it).
  // Both arrival patterns are checked, each on its own: random gaps and equal gaps (bursts).
  const pacedRows = rows.map((r) => ({
    ...r,
    pacedLatencyUs: { p50: 100, p99: r.target === 'berth-serve' ? 1500 : 700 },
    pacedStepLatencyUs: { p50: 100, p99: r.target === 'berth-serve' ? 1900 : 700 },
  }));
  const pacedVerdict = verdictOf(new Map(pacedRows.map((r) => [r.target, r])), 50, 2000)!;
  const pacedCheck = (how: string) => pacedVerdict.checks.find((c) => c.name === `p99 over direct (c50, paced at 2000 req/s, ${how})`);
  assert.equal(pacedCheck('random gaps')?.met, true); // +0.8 ms
  assert.equal(pacedCheck('equal gaps: bursts of 50')?.met, false); // +1.2 ms
  const pacedText = render(pacedRows, berthRatios(pacedRows), pacedVerdict, 's');
  assert.match(pacedText, /paced p99/);
  assert.match(pacedText, /in-step p99/);
  assert.match(pacedText, /1\.90 ms/, 'the in-step p99 in the table');
  assert.equal(verdictOf(new Map([['chp', rows[2]!]])), undefined);
  const text = render(rows, berthRatios(rows), verdict, 'setup line');
  assert.match(text, /^setup line\n\ntarget\s+req\/s/);
  assert.match(text, /configurable-http-proxy\s+5000/);
  assert.match(text, /PASS {2}berth serve: throughput vs configurable-http-proxy: 8\.00× \(round by round 8\.00× \(8\.00–8\.00×\)\) \(target ≥ 5×\)/);
  assert.match(text, /CPU\/request vs the bare proxy: 1\.16× \(5\.5 \/ 4\.8 µs; round by round 1\.16× \(1\.16–1\.16×\)\)/);
  assert.match(text, /MISS {2}berth serve: CPU\/request vs nginx: 6\.19×/);
  assert.match(text, /berth serve vs berth bare proxy\s+0\.95×\s+1\.16×/);
});

test('nginxConf: the listener, the strategy and one server line per replica', () => {
  const conf = nginxConf('/tmp/x', 9000, 'least-connections', [32768, 32769]);
  assert.match(conf, /listen 127\.0\.0\.1:9000;/);
  assert.match(conf, /upstream replicas \{\n {4}least_conn;\n {4}server 127\.0\.0\.1:32768;\n {4}server 127\.0\.0\.1:32769;\n/);
  assert.match(conf, /pid \/tmp\/x\/nginx\.pid;/);
  assert.doesNotMatch(nginxConf('/tmp/x', 9000, 'round-robin', [1]), /least_conn/);
});

test('analyseUpdate: failures, the switch from old to new instances, and the gap', () => {
  // Requests every 10 ms from t=0 to 2000; the apply runs from 1000 to 1500. Old host "a" answers
  // until 1200, new host "b" from 1300; one 502 at 1250 and one socket error in the apply.
  const rec: LoadRecord = { clients: 1, sentAt: [], doneAt: [], status: [], host: [], errors: [], hosts: ['a', 'b'] };
  for (let t = 0; t <= 2000; t += 10) {
    const status = t === 1250 ? 502 : t === 1260 ? 0 : t > 1200 && t < 1300 ? undefined : 200;
    if (status === undefined) continue; // nothing answered meanwhile
    rec.sentAt.push(t - 5);
    rec.doneAt.push(t);
    rec.status.push(status);
    rec.host.push(status !== 200 ? -1 : t <= 1200 ? 0 : 1);
    if (status === 0) rec.errors.push({ at: t, error: 'ECONNRESET' });
  }
  const n = rec.status.length;
  const u = analyseUpdate(1, rec, { applyStart: 1000, applyEnd: 1500, oldHosts: new Set(['a']), newHosts: new Set(['b']) });
  assert.equal(u.requests, n);
  assert.equal(u.non2xx, 1);
  assert.deepEqual(u.non2xxByStatus, { '502': 1 });
  assert.equal(u.socketErrors, 1);
  assert.deepEqual(u.socketErrorsByCode, { ECONNRESET: 1 });
  assert.equal(u.failedDuringApply, 2);
  assert.equal(u.applyMs, 500);
  assert.equal(u.firstNewAnswerMs, 300);
  assert.equal(u.lastOldAnswerMs, 200);
  assert.equal(u.switchGapMs, 100);
  assert.equal(u.servedByUnknownInstance, 0);
  assert.equal(u.longestGapMs.duringApply, 50, 'from the last old answer at 1200 to the 502 at 1250');
  assert.equal(u.requestsPerSecond.before, 100);
});

test('pairedByRound: round k over round k, so a machine changing speed between rounds moves both sides', () => {
  const rowOf = (target: string, ticks: number[]) => targetResult(target, 'http://127.0.0.1:1/', ticks.map((t, i) => roundOf(WRK, meta(i + 1, t), false)));
  // serve ran fast in round 1 and slow in rounds 2 and 3; the bare proxy slow in round 1 and fast after:
  // the medians of each row pair a slow serve with a fast bare proxy (1.6×), round by round it is 1.2×.
  const serve = rowOf('berth-serve', [600, 1000, 1000]);
  const bare = rowOf('berth-proxy', [500, 625, 833]);
  assert.equal(serve.cpuUsPerRequest / bare.cpuUsPerRequest, 1.6);
  const p = pairedByRound(serve, bare, (r) => r.cpuUsPerRequest)!;
  assert.ok(Math.abs(p.median - 1.2) < 0.01, String(p.median));
  assert.ok(Math.abs(p.range[0] - 1.2) < 0.01 && Math.abs(p.range[1] - 1.6) < 0.01, String(p.range));
  // Rounds that do not pair (one round, or a round missing on one side): no figure, rather than a wrong one.
  assert.equal(pairedByRound(rowOf('berth-serve', [600]), rowOf('berth-proxy', [500]), (r) => r.cpuUsPerRequest), undefined);
  assert.equal(pairedByRound(serve, rowOf('berth-proxy', [500, 625]), (r) => r.cpuUsPerRequest), undefined);
  const verdict = verdictOf(new Map([serve, bare].map((r) => [r.target, r])))!;
  assert.match(verdict.checks[0]!.value, /^1\.60× \(100\.0 \/ 62\.5 µs; round by round 1\.20× \(1\.20–1\.60×\)\)$/);
  assert.equal(verdict.checks[0]!.met, false, 'the medians decide');
});
