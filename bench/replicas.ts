/**
 * Replicas benchmark: throughput through berth with 1, 2 and 4 replicas of an
 * app, against nginx balancing the very same replicas, in the same run; then
 * the failed requests during blue/green updates under load. Run it with
 * `bash bench/replicas.sh` (which makes sure the engine, the test image, wrk,
 * nginx and the build are there, and cleans up after a crash).
 *
 *   node dist/bench/replicas.js      (knobs: environment, see replicas.sh)
 *
 * 1. berth's real gateway runs as a process of its own (dist/bench/replicas-gateway.js:
 *    SqliteStore, DockerRuntime, proxy and admin API; containers labelled
 *    berth.bench=true). The benchmark creates one app through the admin API
 *    (`POST /v1/apps`, `berth-test/app:latest`, `scale: {min: 1, max: 4}`, routed at
 *    /r/) and sets its replica count through the API (`POST /v1/apps/<name>/scale`).
 * 2. For each replica count N it reads the replicas' published ports from the
 *    engine (containers labelled berth.app=<name>) and starts nginx (one worker)
 *    with an `upstream` of exactly those 127.0.0.1 ports (least_conn, or round-robin
 *    to match BENCH_BALANCE; keepalive 64). Both proxies are warmed up, then
 *    measured with wrk, interleaved, in each CPU placement:
 *      shared  no pinning: the scheduler spreads everything over the machine's cores
 *      pinned  the proxy alone on CPU 1; wrk, the replicas and their docker-proxy on CPU 0
 *    Per run: req/s, p50/p99, the proxy's CPU time per request (/proc/<pid>/stat),
 *    the replicas' CPU (their cgroups), docker-proxy's and wrk's, how busy each CPU
 *    was, and which part was the bottleneck.
 * 3. Blue/green under load: N=2, a keep-alive load (BENCH_UPDATE_CLIENTS clients
 *    in a process of their own) on /r/echo; while it runs, a changed spec (env)
 *    is applied through the admin API. Every non-2xx answer and socket error is
 *    counted, and the switch is timed from the apply and from what the clients saw.
 *
 * Everything it creates carries `berth.bench=true` and `berth.bench.run=<id>` and is
 * removed on exit, failure and SIGINT/SIGTERM. Every loop and wait is bounded.
 */
import { Bench } from './replicas-bench.js';
import { measure, wrk } from './replicas-measure.js';
import { parseOptions, PREFIX, type Target } from './replicas-options.js';
import { buildResult, groupNote, printReport, summarise } from './replicas-report.js';
import type { Group, Measurement, UpdateResult } from './replicas-types.js';
import { updateUnderLoad } from './replicas-update.js';
import { vmHwmKb } from './lib/procfs.js';
import { logger, runMain, writeResult } from './lib/run.js';
import { fmt, round } from './lib/stats.js';

const log = logger('replicas');

runMain({ log, forceExitMs: 30_000, logCleanupAfterSignal: false }, async (setCleanup) => {
  const options = parseOptions();
  const bench = new Bench(options);
  const started = new Date();
  setCleanup(() => bench.cleanup());
  log(
    `run ${options.runId}: replicas ${options.replicas.join(', ')}; placements ${options.placements.join(', ')}; ${options.rounds} round(s) of ${options.durationS} s per proxy and cell; ` +
      `${options.updates} blue/green update(s) under load`,
  );
  await bench.setup();
  const engine = await bench.docker.version().then((v) => v.Version, () => '?');
  const measurements: Measurement[] = [];
  const groups: Group[] = [];
  for (const n of options.replicas) {
    log(`${n} replica(s): scaling through the API`);
    const replicas = await bench.scale(n);
    log(`  replicas on 127.0.0.1:${replicas.map((r) => r.port).join(', ')}; nginx upstream of the same ports`);
    await bench.startNginx(replicas);
    if (options.warmupS > 0) {
      await bench.place('shared', replicas);
      for (const t of ['berth', 'nginx'] as const) {
        log(`  warm-up ${t}: ${options.warmupS} s`);
        await wrk(bench, `http://127.0.0.1:${t === 'berth' ? bench.proxyPort : bench.nginxPort}${PREFIX}ping`, options.warmupS, 'shared');
      }
    }
    const mine: Measurement[] = [];
    let k = 0;
    for (let r = 1; r <= options.rounds; r++) {
      for (const placement of options.placements) {
        // Which proxy goes first alternates, so drifting load hits both alike.
        const order: Target[] = k++ % 2 === 0 ? ['berth', 'nginx'] : ['nginx', 'berth'];
        for (const t of order) {
          const m = await measure(bench, t, replicas, placement, r);
          mine.push(m);
        }
      }
    }
    measurements.push(...mine);
    for (const placement of options.placements) {
      const of = (t: Target) => mine.filter((m) => m.target === t && m.placement === placement);
      const berth = summarise(of('berth'));
      const nginx = summarise(of('nginx'));
      const g = {
        replicas: n,
        placement,
        berth,
        nginx,
        disturbed: Math.max(berth.otherCores, nginx.otherCores) > 0.3,
        ratio: {
          throughput: round(berth.requestsPerSecond / nginx.requestsPerSecond, 3),
          cpuPerRequest: round(berth.proxyCpuUsPerRequest / nginx.proxyCpuUsPerRequest, 3),
          p50: round(berth.p50Ms / nginx.p50Ms, 3),
          p99: round(berth.p99Ms / nginx.p99Ms, 3),
        },
      };
      groups.push({ ...g, note: groupNote(g) });
    }
    await bench.place('shared', replicas);
    await bench.stopNginx();
  }

  const updates: UpdateResult[] = [];
  if (options.updates > 0) {
    log('blue/green under load: 2 replicas');
    await bench.scale(2);
    for (let i = 1; i <= options.updates; i++) {
      const u = await updateUnderLoad(bench, i);
      log(
        `  update ${i}: ${u.action ?? u.applyStatus}${u.applyError ? ` (${u.applyError})` : ''} in ${fmt(u.applyMs, 0)} ms; ${u.requests} requests, ${u.non2xx} non-2xx, ${u.socketErrors} socket errors; ` +
          `new revision answering after ${fmt(u.firstNewAnswerMs, 0)} ms, old until ${fmt(u.lastOldAnswerMs, 0)} ms`,
      );
      updates.push(u);
      if (u.applyStatus !== 200 || u.instancesAfter !== 2) throw new Error(`update ${i} did not leave 2 instances (${u.applyStatus}, ${u.instancesAfter} running)`);
    }
  }

  const gatewayVmHwmKb = vmHwmKb(bench.gateway?.pid ?? 0);
  const result = { ...buildResult(bench, measurements, groups, updates, engine, started), gatewayVmHwmKb };
  const stamped = await writeResult(options.json, 'replicas', started, result);
  printReport(result);
  log(`berth's gateway process: peak RSS ${fmt(gatewayVmHwmKb / 1024, 0)} MB (VmHWM)`);
  log(`wrote ${options.json} (and ${stamped})`);
});
