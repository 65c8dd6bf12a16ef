/**
 * Cold-start benchmark: how long a request waits for a stopped (or paused) app
 * through berth, next to the Docker engine's own floor measured in the same run.
 * Run it with `bash bench/cold-start.sh` (which makes sure the engine runs, the
 * test image exists and the code is compiled, and cleans up after a crash).
 *
 *   node dist/bench/cold-start.js [--runs 20] [--warmup 2] [--burst 1000] [--boot-delay-ms 0] [--json bench/results/cold-start-latest.json]
 *
 * In one process, on the real engine, with `berth-test/app:latest` (never pulled):
 *   1. floor/stop   a container of its own (not berth's), stopped: Engine API start →
 *                   first 200 from polling its published 127.0.0.1 port directly.
 *   2. berth/stop   berth's real Gateway (SqliteStore + DockerRuntime) with an app on
 *                   the same image, stopped by berth's own idle stop: one GET through
 *                   the proxy → its 200.
 *   3. floor/pause  the floor container paused: Engine API unpause → first 200.
 *   4. berth/pause  an app with `idleAction: pause`, paused by berth → first 200 through berth.
 *   5. burst        one stopped app, N requests at once: engine `start` events counted,
 *                   successes counted, time until the last one is served.
 * Floor and berth runs alternate (which one goes first alternates too), so a burst
 * of other work on the machine hits both sides rather than one.
 *
 * Everything it creates carries `berth.bench=true` and `berth.bench.run=<id>` and is
 * removed on exit, failure and SIGINT/SIGTERM. Every loop is bounded in count and time.
 */
import { Bench } from './cold-start-bench.js';
import { parseOptions } from './cold-start-options.js';
import { buildResult, printReport } from './cold-start-report.js';
import type { BerthRun, FloorRun, Pair } from './cold-start-types.js';
import { logger, runMain, writeResult } from './lib/run.js';
import { fmt } from './lib/stats.js';

const log = logger('cold-start');

runMain({ log, forceExitMs: 20_000, logCleanupAfterSignal: true }, async (setCleanup) => {
  const options = parseOptions(process.argv.slice(2));
  const bench = new Bench(options);
  const started = new Date();
  setCleanup(() => bench.cleanup());
  log(`run ${options.runId}: ${options.runs} runs (+${options.warmup} warm-up) per series, burst ${options.burst}`);
  await bench.setup();
  const version = await bench.docker.version().then((v) => v.Version, () => '?');
  const total = options.warmup + options.runs;

  // Floor and berth runs alternate, and so does which of them goes first.
  const interleaved = async (floorRun: () => Promise<FloorRun>, berthRun: () => Promise<BerthRun>, describe: (f: FloorRun, b: BerthRun) => string): Promise<Pair> => {
    const pair: Pair = { floor: [], berth: [] };
    for (let i = 0; i < total; i++) {
      const floorFirst = i % 2 === 0;
      let f: FloorRun;
      let b: BerthRun;
      if (floorFirst) {
        f = await floorRun();
        b = await berthRun();
      } else {
        b = await berthRun();
        f = await floorRun();
      }
      const tag = i < options.warmup ? 'warm-up' : `run ${i - options.warmup + 1}/${options.runs}`;
      log(`  ${tag}: ${describe(f, b)}`);
      if (i >= options.warmup) {
        pair.floor.push(f);
        pair.berth.push(b);
      }
    }
    return pair;
  };

  log('cold start: floor (engine start) and berth (stopped app), interleaved');
  const stop = await interleaved(
    () => bench.floorStopRun(),
    () => bench.berthRun(bench.apps.stop, '/stop/', 'stopped'),
    (f, b) => `floor ${fmt(f.ms)} ms (start call ${fmt(f.engineMs)}), berth ${fmt(b.ms)} ms (lastStartMs ${b.lastStartMs ?? '-'}, starts ${b.starts})`,
  );

  log('wake from pause: floor (engine unpause) and berth (paused app), interleaved');
  // The first request starts the app; berth then pauses it after the idle timeout.
  await bench.berthRun(bench.apps.pause, '/pause/', 'paused', 'stopped');
  const pause = await interleaved(
    () => bench.floorPauseRun(),
    () => bench.berthRun(bench.apps.pause, '/pause/', 'paused'),
    (f, b) => `floor ${fmt(f.ms)} ms (unpause call ${fmt(f.engineMs)}), berth ${fmt(b.ms)} ms (unpauses ${b.starts})`,
  );

  log(`burst: ${options.burst} concurrent requests to a stopped app`);
  // One start and idle stop first, so the burst does not pay a fresh container's first start.
  await bench.berthRun(bench.apps.burst, '/burst/', 'stopped');
  const burst = await bench.burstRun(options.burst);
  log(`  ${burst.ok}/${burst.requests} served, ${burst.starts} start(s), last at ${fmt(burst.lastMs)} ms`);

  const result = buildResult(bench, stop, pause, burst, version, started);
  const stamped = await writeResult(options.json, 'cold-start', started, result);
  printReport(result);
  log(`wrote ${options.json} (and ${stamped})`);
});
