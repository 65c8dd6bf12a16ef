/** The cold-start benchmark's figures: floor against berth per series, where the time went, the printed report. */
import { cpus, loadavg } from 'node:os';
import type { Bench } from './cold-start-bench.js';
import type { BerthRun, BurstResult, Pair } from './cold-start-types.js';
import { IMAGE } from './lib/docker.js';
import { fmt, percentile, round, rounded, summary, type Summary } from './lib/stats.js';
import { padRow } from './lib/table.js';

/** How long berth's run spent in the engine call that does the work (start or unpause). */
function mainCallMs(r: BerthRun, call: string): number {
  return r.calls.filter((c) => c.call === call).reduce((a, c) => a + c.ms, 0);
}

/**
 * The engine's start call alone varies by a few hundred ms from run to run (on a
 * busy 2-core machine), which swamps a difference of a few ms. So besides the
 * plain difference, berth's own cost is given with that call taken out of both
 * sides: berth's time minus its start/unpause call, against the floor's time
 * after its start/unpause call returned.
 */
function pairFigures(p: Pair, call: string) {
  const floor = summary(p.floor.map((r) => r.ms));
  const berth = summary(p.berth.map((r) => r.ms));
  const paired = p.berth.map((b, i) => b.ms - p.floor[i]!.ms);
  const floorRest = summary(p.floor.map((r) => r.pollMs));
  const berthRest = summary(p.berth.map((r) => r.ms - mainCallMs(r, call)));
  return {
    floor,
    berth,
    differenceOfMediansMs: round(berth.median - floor.median),
    pairedDifference: summary(paired),
    ratioOfMedians: round(berth.median / floor.median, 3),
    excludingEngineCall: {
      call,
      floorAfterCall: floorRest,
      berthWithoutCall: berthRest,
      differenceOfMediansMs: round(berthRest.median - floorRest.median),
    },
  };
}

/** Median time of each kind of engine call berth made per run, and its count per run. */
function callBreakdown(runs: readonly BerthRun[]): Record<string, { perRun: number; medianMs: number }> {
  const by = new Map<string, number[]>();
  for (const r of runs) for (const c of r.calls) by.set(c.call, [...(by.get(c.call) ?? []), c.ms]);
  const out: Record<string, { perRun: number; medianMs: number }> = {};
  for (const [k, v] of by) out[k] = { perRun: round(v.length / runs.length), medianMs: round(percentile(v, 50)) };
  return out;
}

export function printReport(result: ReturnType<typeof buildResult>): void {
  const line = (cells: string[], widths: number[]) => padRow(cells, widths);
  const widths = [34, 7, 8, 8, 8, 8];
  const out: string[] = [];
  out.push('');
  out.push(`berth cold start, ${result.runs} measured runs each (after ${result.warmup} warm-up), ${IMAGE}, engine ${result.machine.engine}`);
  if (result.bootDelayMs > 0) out.push(`the cold-start app waits ${result.bootDelayMs} ms before listening (STARTUP_DELAY_MS), floor and berth alike`);
  out.push(line(['', 'n', 'median', 'p90', 'min', 'max'], widths));
  const row = (name: string, s: Summary) => out.push(line([name, String(s.n), fmt(s.median), fmt(s.p90), fmt(s.min), fmt(s.max)], widths));
  const c = result.coldStart;
  const w = result.wakeFromPause;
  row('engine floor: start → first 200', c.floor);
  row('berth: stopped → first 200', c.berth);
  row('  paired difference (berth − floor)', c.pairedDifference);
  row('  floor after its start call', c.excludingEngineCall.floorAfterCall);
  row('  berth without its start call', c.excludingEngineCall.berthWithoutCall);
  row('engine floor: unpause → first 200', w.floor);
  row('berth: paused → first 200', w.berth);
  row('  paired difference (berth − floor)', w.pairedDifference);
  row('  floor after its unpause call', w.excludingEngineCall.floorAfterCall);
  row('  berth without its unpause call', w.excludingEngineCall.berthWithoutCall);
  out.push('(milliseconds)');
  out.push('');
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  out.push(
    `cold start: berth − floor = ${fmt(c.differenceOfMediansMs)} ms on the medians (paired median ${fmt(c.pairedDifference.median)} ms), ` +
      `berth/floor = ${fmt(c.ratioOfMedians, 3)}; target < 10 ms: ${verdict(c.targetMet)}`,
  );
  out.push(
    `  berth's own cost with the engine's start call taken out of both sides: ${fmt(c.excludingEngineCall.differenceOfMediansMs)} ms ` +
      `(${fmt(c.excludingEngineCall.berthWithoutCall.median)} vs ${fmt(c.excludingEngineCall.floorAfterCall.median)}); ` +
      `target < 10 ms: ${verdict(c.targetMetExcludingEngineCall)}`,
  );
  out.push(
    `wake from pause: berth ${fmt(w.berth.median)} ms median end to end (floor ${fmt(w.floor.median)} ms, difference ${fmt(w.differenceOfMediansMs)} ms); ` +
      `target < 25 ms: ${verdict(w.targetMet)}`,
  );
  const b = result.burst;
  out.push(
    `${b.requests} concurrent cold requests: ${b.starts} engine start(s), ${b.ok} served 200, ${b.failed} failed; ` +
      `first served at ${fmt(b.firstMs)} ms, last at ${fmt(b.lastMs)} ms (median ${fmt(b.latency.median)}, p90 ${fmt(b.latency.p90)})` +
      (b.failed > 0 ? `; statuses ${JSON.stringify(b.statuses)}, errors ${JSON.stringify(b.errors)}` : ''),
  );
  out.push(
    `  berth's start of that app took ${fmt(b.lastStartMs ?? NaN)} ms (lastStartMs); the client handed all requests to the kernel within ${fmt(b.sentMs)} ms; ` +
      `other work on the machine used ${fmt(b.load, 2)} cores just before`,
  );
  if ((b.listenOverflows ?? 0) > 0 || (b.appListenOverflows ?? 0) > 0) {
    out.push(
      `  accept queues overflowed: ${b.listenOverflows ?? '?'} times on the host (berth's listener, docker-proxy), ${b.appListenOverflows ?? '?'} times in the app's container; ` +
        `a dropped SYN is resent after 1 s (${b.servedAfter1s} requests were served 1 s or more after the burst began)`,
    );
  }
  out.push('');
  out.push('where berth\'s cold start goes (medians per run):');
  out.push(`  floor: engine start call ${fmt(result.breakdown.floorStartCallMs)} ms, then ${fmt(result.breakdown.floorPollMs)} ms polling (${fmt(result.breakdown.floorAttempts, 0)} attempts)`);
  for (const [k, v] of Object.entries(result.breakdown.berthEngineCalls)) out.push(`  berth: ${v.perRun}× ${k}, ${fmt(v.medianMs)} ms each`);
  out.push(`  berth: first engine call ${fmt(result.breakdown.berthBeforeEngineMs)} ms after the request was sent, start call ${fmt(result.breakdown.berthBeforeStartCallMs)} ms after it`);
  out.push(`  berth: from the start call's answer to the response (port lookup, readiness polling, proxying) ${fmt(result.breakdown.berthAfterStartCallMs)} ms; activator's lastStartMs ${fmt(result.breakdown.berthLastStartMs)} ms`);
  out.push(`  floor: engine unpause call ${fmt(result.breakdown.floorUnpauseCallMs)} ms, then ${fmt(result.breakdown.floorUnpausePollMs)} ms polling`);
  out.push(
    `  pause: berth engine calls ${Object.entries(result.breakdown.pauseEngineCalls).map(([k, v]) => `${v.perRun}× ${k} ${fmt(v.medianMs)} ms`).join(', ')}; ` +
      `unpause called ${fmt(result.breakdown.pauseBeforeUnpauseCallMs)} ms after the request, response ${fmt(result.breakdown.pauseAfterUnpauseCallMs)} ms after its answer`,
  );
  const odd = result.berthStartsPerRun.filter((n) => n !== 1).length;
  out.push(odd === 0 ? '  every measured berth run caused exactly one engine start/unpause' : `  WARNING: ${odd} berth runs did not cause exactly one engine start/unpause`);
  out.push(
    `other work on the machine just before each run: median ${fmt(result.machine.otherWorkCores.median, 2)} cores, max ${fmt(result.machine.otherWorkCores.max, 2)} ` +
      `(of ${result.machine.cpus}); waited ${fmt(result.machine.quietWaitS)} s in all for it to settle`,
  );
  process.stdout.write(out.join('\n') + '\n');
}

export function buildResult(bench: Bench, stop: Pair, pause: Pair, burst: BurstResult, engine: string, started: Date) {
  const coldStart = pairFigures(stop, 'start');
  const wake = pairFigures(pause, 'unpause');
  const med = (xs: number[]) => round(percentile(xs, 50));
  const startEnd = stop.berth.map((r) => {
    const s = r.calls.find((c) => c.call === 'start');
    return s ? s.at + s.ms : NaN;
  });
  return {
    benchmark: 'cold-start',
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    runId: bench.options.runId,
    image: IMAGE,
    runs: bench.options.runs,
    warmup: bench.options.warmup,
    settleMs: bench.options.settleMs,
    bootDelayMs: bench.options.bootDelayMs,
    units: 'ms',
    percentiles: 'linear interpolation between closest ranks',
    machine: {
      cpus: cpus().length,
      loadavgAtEnd: loadavg().map((x) => round(x)),
      engine,
      node: process.version,
      quietWaitS: round(bench.quiet.waitedMs / 1000),
      /** Cores used by other work on the machine just before each measured run (median, max). */
      otherWorkCores: {
        median: med([...stop.floor, ...stop.berth, ...pause.floor, ...pause.berth].map((r) => r.load)),
        max: round(Math.max(...[...stop.floor, ...stop.berth, ...pause.floor, ...pause.berth].map((r) => r.load))),
      },
    },
    coldStart: {
      ...coldStart,
      targetMs: 10,
      targetMet: coldStart.differenceOfMediansMs < 10,
      targetMetExcludingEngineCall: coldStart.excludingEngineCall.differenceOfMediansMs < 10,
    },
    wakeFromPause: { ...wake, targetMs: 25, targetMet: wake.berth.median < 25 },
    burst,
    breakdown: {
      floorStartCallMs: med(stop.floor.map((r) => r.engineMs)),
      floorPollMs: med(stop.floor.map((r) => r.pollMs)),
      floorAttempts: med(stop.floor.map((r) => r.attempts)),
      floorProbeTimeouts: stop.floor.reduce((a, r) => a + r.timeouts, 0),
      floorUnpauseCallMs: med(pause.floor.map((r) => r.engineMs)),
      berthEngineCalls: callBreakdown(stop.berth),
      berthBeforeEngineMs: med(stop.berth.map((r) => r.calls[0]?.at ?? NaN)),
      berthBeforeStartCallMs: med(stop.berth.map((r) => r.beforeCallMs)),
      berthStartCallEndMs: med(startEnd.filter(Number.isFinite)),
      berthAfterStartCallMs: med(stop.berth.map((r) => r.afterCallMs)),
      berthLastStartMs: med(stop.berth.map((r) => r.lastStartMs ?? NaN).filter(Number.isFinite)),
      pauseEngineCalls: callBreakdown(pause.berth),
      floorUnpausePollMs: med(pause.floor.map((r) => r.pollMs)),
      pauseBeforeUnpauseCallMs: med(pause.berth.map((r) => r.beforeCallMs)),
      pauseAfterUnpauseCallMs: med(pause.berth.map((r) => r.afterCallMs)),
      pauseLastStartMs: med(pause.berth.map((r) => r.lastStartMs ?? NaN).filter(Number.isFinite)),
    },
    berthStartsPerRun: [...stop.berth, ...pause.berth].map((r) => r.starts),
    raw: {
      coldStart: { floor: stop.floor.map(rounded), berth: stop.berth.map(rounded) },
      wakeFromPause: { floor: pause.floor.map(rounded), berth: pause.berth.map(rounded) },
    },
  };
}
