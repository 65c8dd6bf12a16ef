/** The replicas benchmark's figures: a cell's summary and what limited it, scaling, the printed report and the JSON result. */
import { loadavg } from 'node:os';
import type { Bench } from './replicas-bench.js';
import { PREFIX, type Placement, type Target } from './replicas-options.js';
import type { Group, Measurement, ProxySummary, UpdateResult } from './replicas-types.js';
import { IMAGE } from './lib/docker.js';
import { fmt, median, round } from './lib/stats.js';
import { padRow } from './lib/table.js';
import { wrkErrorCount } from './lib/wrk.js';

export function summarise(ms: readonly Measurement[]): ProxySummary {
  const pick = (f: (m: Measurement) => number) => round(median(ms.map(f)), 3);
  const rps = ms.map((m) => m.requestsPerSecond);
  // The bottleneck of the run closest to the median throughput.
  const mid = [...ms].sort((a, b) => Math.abs(a.requestsPerSecond - median(rps)) - Math.abs(b.requestsPerSecond - median(rps)))[0]!;
  return {
    requestsPerSecond: round(median(rps), 0),
    rpsRange: [round(Math.min(...rps), 0), round(Math.max(...rps), 0)],
    p50Ms: pick((m) => m.latencyMs.p50),
    p99Ms: pick((m) => m.latencyMs.p99),
    proxyCpuUsPerRequest: pick((m) => m.proxyCpuUsPerRequest),
    proxyCores: pick((m) => m.proxyCores),
    replicasCores: pick((m) => m.replicasCores),
    dockerProxyCores: pick((m) => m.dockerProxyCores),
    wrkCores: pick((m) => m.wrkCores),
    cpuBusy: mid.cpuBusy,
    otherCores: pick((m) => m.otherCores),
    errors: ms.reduce((a, m) => a + wrkErrorCount(m.errors), 0),
    bottleneck: mid.bottleneck,
  };
}

export function groupNote(g: Omit<Group, 'note'>): string {
  const note = groupNoteOf(g);
  return g.disturbed ? `${note} [disturbed: other work used ${fmt(Math.max(g.berth.otherCores, g.nginx.otherCores), 2)} cores meanwhile]` : note;
}

function groupNoteOf(g: Omit<Group, 'note'>): string {
  const { berth, nginx, replicas, placement } = g;
  const r = g.ratio.throughput;
  const is = (s: ProxySummary, what: string) => s.bottleneck.startsWith(what);
  if (placement === 'pinned') {
    if (is(berth, 'the load core') && is(nginx, 'the load core'))
      return `both limited by the load core (wrk + ${replicas} replica(s) + docker-proxy on one CPU): the throughput says little, CPU/request is the figure`;
    if (is(berth, 'the proxy') && is(nginx, 'the load core'))
      return `berth's core is the limit, nginx's is not (the replicas' core is): berth pays ${fmt(g.ratio.cpuPerRequest, 1)}× nginx's CPU per request`;
  } else {
    if (is(berth, 'the machine') && is(nginx, 'the machine'))
      return `both keep the machine's cores busy, so the CPU berth spends per request beyond nginx's is taken from the replicas and docker-proxy: ${r < 0.97 ? `${fmt((1 - r) * 100, 0)} % fewer requests` : 'no visible loss'}`;
    if (is(berth, 'the replica') && is(nginx, 'the replica')) return 'the single replica is the limit for both';
  }
  return `berth: ${berth.bottleneck}; nginx: ${nginx.bottleneck}`;
}

export function printReport(result: ReturnType<typeof buildResult>): void {
  const out: string[] = [];
  const widths = [9, 6, 9, 8, 8, 9, 7, 9, 8];
  const line = (cells: string[]) => padRow(cells, widths, 2);
  out.push('');
  out.push(
    `berth vs nginx balancing the same replicas of ${IMAGE} (${result.setup.balance}), wrk -c${result.setup.connections} -t${result.setup.threads}, ` +
      `${result.setup.durationS} s × ${result.setup.rounds} round(s) per cell, ${result.machine.cpus} CPUs, engine ${result.machine.engine}`,
  );
  for (const placement of result.setup.placements) {
    out.push('');
    out.push(
      placement === 'shared'
        ? 'placement "shared": no pinning, everything (wrk, proxy, replicas, docker-proxy) shares the cores'
        : `placement "pinned": proxy alone on CPU ${result.setup.proxyCpu}; wrk, replicas and docker-proxy on CPU ${result.setup.loadCpu}`,
    );
    out.push(line(['replicas', 'proxy', 'req/s', 'p50 ms', 'p99 ms', 'µs CPU/r', 'cores', 'replicas', 'd-proxy']));
    for (const g of result.groups.filter((x) => x.placement === placement)) {
      for (const t of ['berth', 'nginx'] as const) {
        const s = g[t];
        out.push(
          line([
            t === 'berth' ? String(g.replicas) : '',
            t,
            fmt(s.requestsPerSecond, 0),
            fmt(s.p50Ms, 2),
            fmt(s.p99Ms, 2),
            fmt(s.proxyCpuUsPerRequest, 1),
            fmt(s.proxyCores, 2),
            fmt(s.replicasCores, 2),
            fmt(s.dockerProxyCores, 2),
          ]) + (s.errors ? `  ${s.errors} ERRORS` : ''),
        );
      }
      out.push(
        `${''.padEnd(widths[0]!)}  berth/nginx: throughput ${fmt(g.ratio.throughput, 2)}×, CPU/request ${fmt(g.ratio.cpuPerRequest, 2)}×, p50 ${fmt(g.ratio.p50, 2)}×, p99 ${fmt(g.ratio.p99, 2)}×`,
      );
      out.push(`${''.padEnd(widths[0]!)}  ${g.note}`);
    }
  }
  out.push('(req/s, p50, p99: from wrk; µs CPU/r: the proxy process\'s CPU time per request; cores: CPU time ÷ wall time of the proxy, the replicas\' containers and their docker-proxy processes)');
  out.push('');
  out.push(...result.scaling.map((s) => `scaling (${s.placement}): ${s.text}`));
  out.push('');
  const u = result.blueGreen;
  if (u.updates.length > 0) {
    out.push(`blue/green under load: ${u.updates.length} update(s) of ${u.replicas} replicas (env change) applied through POST /v1/apps while ${u.clients} keep-alive clients sent GET ${PREFIX}echo`);
    for (const x of u.updates) {
      out.push(
        `  update ${x.update}: ${x.action ?? `HTTP ${x.applyStatus}`}${x.applyError ? ` (${x.applyError})` : ''}, apply took ${fmt(x.applyMs, 0)} ms; ` +
          `${x.requests} requests, ${x.non2xx} non-2xx, ${x.socketErrors} socket errors` +
          (x.non2xx + x.socketErrors > 0 ? ` ${JSON.stringify({ ...x.non2xxByStatus, ...x.socketErrorsByCode })}` : '') +
          `; first answer from the new revision ${fmt(x.firstNewAnswerMs, 0)} ms after the apply was sent, last from the old ${fmt(x.lastOldAnswerMs, 0)} ms (${switchText(x.switchGapMs)}); ` +
          `${x.newInstances}/${x.instancesAfter} instances new after it${x.allNewAfter ? '' : ' (NOT all new)'}`,
      );
      out.push(
        `            req/s before ${fmt(x.requestsPerSecond.before, 0)}, during the apply ${fmt(x.requestsPerSecond.duringApply, 0)}, after ${fmt(x.requestsPerSecond.after, 0)}; ` +
          `latency p50/p99 before ${fmt(x.latencyMs.beforeP50, 2)}/${fmt(x.latencyMs.beforeP99, 2)} ms, during ${fmt(x.latencyMs.duringP50, 2)}/${fmt(x.latencyMs.duringP99, 2)} ms (max ${fmt(x.latencyMs.duringMax, 1)}); ` +
          `longest time without an answer: ${fmt(x.longestGapMs.duringApply, 1)} ms during the apply (${fmt(x.longestGapMs.before, 1)} before)`,
      );
    }
    out.push(
      `  failed requests during blue/green updates: ${u.failed} of ${u.requests} (target 0: ${u.failed === 0 ? 'met' : 'MISSED'}); ` +
        `switch: apply median ${fmt(u.applyMsMedian, 0)} ms (new instances started and ready, traffic switched, old drained and removed), ` +
        `traffic on the new revision ${fmt(u.firstNewMedian, 0)} ms after the apply (median)`,
    );
  }
  out.push('');
  out.push(
    `machine: other work used ${fmt(result.machine.otherWorkCores.median, 2)} cores (median over the runs, max ${fmt(result.machine.otherWorkCores.max, 2)}); ` +
      `waited ${fmt(result.machine.quietWaitS, 0)} s in all for it to settle; ${result.machine.redoneRuns} run(s) redone for disturbance`,
  );
  const disturbed = result.groups.filter((g) => g.disturbed).length;
  if (disturbed > 0) {
    out.push(
      `WARNING: in ${disturbed} of ${result.groups.length} cells other work used more than 0.3 cores during the runs (marked [disturbed]); ` +
        'CPU per request and throughput there are inflated by sharing the cores; rerun on a quieter machine for clean figures',
    );
  }
  process.stdout.write(out.join('\n') + '\n');
}

function switchText(gapMs: number): string {
  if (!Number.isFinite(gapMs)) return 'no switch seen';
  return gapMs > 0 ? `${fmt(gapMs, 1)} ms without any answer at the switch` : `both revisions answered for ${fmt(-gapMs, 1)} ms`;
}

function scalingText(groups: readonly Group[], placement: Placement): string {
  const gs = groups.filter((g) => g.placement === placement).sort((a, b) => a.replicas - b.replicas);
  if (gs.length < 2) return 'one replica count only';
  const first = gs[0]!;
  const last = gs[gs.length - 1]!;
  const parts = (t: Target) => gs.map((g) => `${g.replicas}: ${fmt(g[t].requestsPerSecond / first[t].requestsPerSecond, 2)}×`).join(', ');
  const head = `throughput relative to 1 replica — berth ${parts('berth')}; nginx ${parts('nginx')}.`;
  if (placement === 'pinned') {
    const why = (t: Target) =>
      last[t].bottleneck.startsWith('the proxy') ? `${t} is limited by its own core, so this is what balancing over more upstreams costs it` : `${t} by the load core, where ${last.replicas} replicas and ${last.replicas} docker-proxy processes now take turns`;
    return `${head} All replicas share one core here, so more replicas cannot add throughput; ${why('berth')}; ${why('nginx')}.`;
  }
  const upstream = (t: Target) => last[t].replicasCores + last[t].dockerProxyCores;
  const most = upstream('berth') > last.berth.proxyCores && upstream('nginx') > last.nginx.proxyCores;
  return (
    `${head} More replicas cannot add throughput on ${last.berth.cpuBusy.length} cores: with ${last.replicas} replicas, the replicas and their docker-proxy used ` +
    `${fmt(upstream('berth'), 2)} cores (behind berth, berth itself ${fmt(last.berth.proxyCores, 2)}) and ${fmt(upstream('nginx'), 2)} (behind nginx, nginx ${fmt(last.nginx.proxyCores, 2)})` +
    (most ? ': the replicas and docker-proxy, not the proxy, take most of the machine.' : '.')
  );
}

export function buildResult(bench: Bench, measurements: Measurement[], groups: Group[], updates: UpdateResult[], engine: string, started: Date) {
  const final = measurements;
  return {
    benchmark: 'replicas',
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    runId: bench.options.runId,
    image: IMAGE,
    setup: {
      replicas: bench.options.replicas,
      placements: bench.options.placements,
      balance: bench.options.balance,
      durationS: bench.options.durationS,
      warmupS: bench.options.warmupS,
      connections: bench.options.connections,
      threads: bench.options.threads,
      rounds: bench.options.rounds,
      loadCpu: bench.loadCpu,
      proxyCpu: bench.proxyCpu,
      request: `GET ${PREFIX}ping (berth: route ${PREFIX} with stripPrefix; nginx: location ${PREFIX} proxy_pass http://replicas/) → the app's /ping, "pong"`,
      upstreams: 'the replicas\' ports published on 127.0.0.1 (docker-proxy), the same for berth and nginx',
      nginx: `worker_processes 1, upstream with ${bench.options.balance === 'least-connections' ? 'least_conn' : 'round-robin'} and keepalive 64, access_log off`,
      berth: 'the real gateway (SqliteStore, DockerRuntime, request history and metrics on) in its own process',
    },
    machine: {
      cpus: bench.cpuCount,
      node: process.version,
      engine,
      loadavgAtEnd: loadavg().map((x) => round(x)),
      quietWaitS: round(bench.quiet.waitedMs / 1000, 1),
      otherWorkCores: { median: round(median(final.map((m) => m.otherCores)), 2), max: round(Math.max(0, ...final.map((m) => m.otherCores)), 2) },
      redoneRuns: bench.redone.length,
    },
    groups,
    scaling: bench.options.placements.map((p) => ({ placement: p, text: scalingText(groups, p) })),
    blueGreen: {
      replicas: 2,
      clients: bench.options.updateClients,
      leadMs: bench.options.updateLeadMs,
      tailMs: bench.options.updateTailMs,
      requests: updates.reduce((a, u) => a + u.requests, 0),
      failed: updates.reduce((a, u) => a + u.non2xx + u.socketErrors, 0),
      targetFailed: 0,
      applyMsMedian: round(median(updates.map((u) => u.applyMs)), 0),
      firstNewMedian: round(median(updates.map((u) => u.firstNewAnswerMs)), 0),
      updates,
    },
    measurements: final,
    redone: bench.redone,
  };
}
