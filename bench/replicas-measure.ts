/** The replicas benchmark's measured runs: wrk against one proxy, the CPU each part used, what limited the run. */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { appendFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Bench } from './replicas-bench.js';
import { PREFIX, ROOT, type Placement, type Target } from './replicas-options.js';
import type { Measurement, Replica } from './replicas-types.js';
import { CLK_TCK, cpuBusyTicks, dockerProxyPids, processCpuS } from './lib/procfs.js';
import { logger } from './lib/run.js';
import { fmt, round } from './lib/stats.js';
import { findWrkJson, wrkErrorCount, type WrkJson } from './lib/wrk.js';

const log = logger('replicas');

export async function wrk(bench: Bench, url: string, durationS: number, placement: Placement): Promise<{ json: WrkJson; cpuS: number; text: string }> {
  const cpuFile = join(bench.dir, `wrk-${randomBytes(3).toString('hex')}.cpu`);
  const args = [
    '-f',
    '%U %S',
    '-o',
    cpuFile,
    'timeout',
    String(durationS + 30),
    'wrk',
    `-t${bench.options.threads}`,
    `-c${bench.options.connections}`,
    `-d${durationS}s`,
    '--timeout',
    '5s',
    '--latency',
    '-s',
    join(ROOT, 'bench/wrk-report.lua'),
    url,
  ];
  const child =
    placement === 'pinned'
      ? spawn('taskset', ['-c', String(bench.loadCpu), '/usr/bin/time', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('/usr/bin/time', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid) appendFileSync(join(bench.dir, 'pids'), `${child.pid} wrk\n`);
  let text = '';
  child.stdout!.on('data', (c: Buffer) => (text += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (text += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`wrk exited with ${code}: ${text.slice(-500)}`);
  const json = findWrkJson(text);
  if (!json) throw new Error(`wrk printed no WRK_JSON line: ${text.slice(-500)}`);
  const cpu = (await readFile(cpuFile, 'utf8').catch(() => '0 0')).trim().split(/\s+/).map(Number);
  await rm(cpuFile, { force: true });
  return { json, cpuS: (cpu[0] ?? 0) + (cpu[1] ?? 0), text };
}

export async function measure(bench: Bench, target: Target, replicas: readonly Replica[], placement: Placement, roundNo: number): Promise<Measurement> {
  let m: Measurement | undefined;
  for (let attempt = 0; attempt <= bench.options.retries; attempt++) {
    await bench.place(placement, replicas);
    await bench.quiet.wait();
    m = await measureOnce(bench, target, replicas, placement, roundNo, attempt);
    const disturbed = m.otherCores > 0.3;
    log(
      `  ${target.padEnd(5)} N=${replicas.length} ${placement.padEnd(6)} round ${roundNo}: ${fmt(m.requestsPerSecond, 0)} req/s, p50 ${fmt(m.latencyMs.p50, 2)} ms, p99 ${fmt(m.latencyMs.p99, 2)} ms, ` +
        `${fmt(m.proxyCpuUsPerRequest)} µs CPU/req (proxy ${fmt(m.proxyCores, 2)} cores, replicas ${fmt(m.replicasCores, 2)}, docker-proxy ${fmt(m.dockerProxyCores, 2)}, wrk ${fmt(m.wrkCores, 2)}; other work ${fmt(m.otherCores, 2)})` +
        (wrkErrorCount(m.errors) > 0 ? `; ERRORS ${JSON.stringify(m.errors)}` : ''),
    );
    if (!disturbed || attempt === bench.options.retries || !bench.quiet.budgetLeft) break;
    bench.redone.push(m);
    log(`  other work used ${fmt(m.otherCores, 2)} cores during that run: redoing it`);
  }
  return m!;
}

async function measureOnce(bench: Bench, target: Target, replicas: readonly Replica[], placement: Placement, roundNo: number, attempt: number): Promise<Measurement> {
  const proc = target === 'berth' ? bench.gateway! : bench.nginx!;
  const port = target === 'berth' ? bench.proxyPort : bench.nginxPort;
  const dp = [...dockerProxyPids(replicas.map((r) => r.port)).values()].flat();
  const replicaNs = () => replicas.map((r) => r.cpuNs());
  const dpS = () => dp.reduce((a, p) => a + processCpuS(p), 0);
  const b = { proxy: proc.cpuS(), replicas: replicaNs(), dp: dpS(), cpu: cpuBusyTicks(), t: performance.now() };
  const w = await wrk(bench, `http://127.0.0.1:${port}${PREFIX}ping`, bench.options.durationS, placement);
  const a = { proxy: proc.cpuS(), replicas: replicaNs(), dp: dpS(), cpu: cpuBusyTicks(), t: performance.now() };
  const wallS = (a.t - b.t) / 1000;
  const runS = w.json.duration_us / 1e6;
  const proxyS = a.proxy - b.proxy;
  const replicaS = a.replicas.map((x, i) => (x - b.replicas[i]!) / 1e9);
  const replicasS = replicaS.reduce((x, y) => x + y, 0);
  const dpCpuS = a.dp - b.dp;
  const machineS = (a.cpu.all - b.cpu.all) / CLK_TCK;
  const ours = proxyS + replicasS + dpCpuS + w.cpuS;
  const m: Measurement = {
    target,
    replicas: replicas.length,
    placement,
    round: roundNo,
    attempt,
    requests: w.json.requests,
    durationS: round(runS, 3),
    requestsPerSecond: round(w.json.requests / runS, 1),
    latencyMs: {
      p50: round(w.json.latency_us.p50 / 1000, 3),
      p90: round(w.json.latency_us.p90 / 1000, 3),
      p99: round(w.json.latency_us.p99 / 1000, 3),
      max: round(w.json.latency_us.max / 1000, 3),
    },
    errors: w.json.errors,
    proxyCpuUsPerRequest: round((proxyS * 1e6) / Math.max(1, w.json.requests), 1),
    proxyCores: round(proxyS / wallS, 3),
    replicasCores: round(replicasS / wallS, 3),
    replicaCoresEach: replicaS.map((x) => round(x / wallS, 3)),
    dockerProxyCores: round(dpCpuS / wallS, 3),
    wrkCores: round(w.cpuS / wallS, 3),
    cpuBusy: a.cpu.each.map((x, i) => round((x - (b.cpu.each[i] ?? 0)) / CLK_TCK / wallS, 3)),
    otherCores: round(Math.max(0, (machineS - ours) / wallS), 3),
    bottleneck: '',
  };
  m.bottleneck = bottleneck(bench, m);
  return m;
}

/**
 * Which part of the setup limited the run, from where the CPU went. Pinned: the
 * load core at ≥ 95 % (nginx drives it there) is the limit; otherwise the proxy,
 * when it kept its own core ≥ 80 % busy (a single-threaded proxy that is the
 * slowest stage of the chain rarely reaches 100 %: it waits while the replicas
 * work on its last batch). Shared: the machine when its cores were ≥ 85 % busy.
 */
export function bottleneck(bench: Bench, m: Measurement): string {
  const parts = `replicas ${fmt(m.replicasCores, 2)}, docker-proxy ${fmt(m.dockerProxyCores, 2)}, ${m.target} ${fmt(m.proxyCores, 2)}, wrk ${fmt(m.wrkCores, 2)} cores`;
  const busy = m.cpuBusy.map((x) => `${fmt(x * 100, 0)}`).join('/');
  const busiestReplica = Math.max(...m.replicaCoresEach);
  if (m.placement === 'pinned') {
    const proxyCore = m.cpuBusy[bench.proxyCpu] ?? 0;
    const loadCore = m.cpuBusy[bench.loadCpu] ?? 0;
    const load = `replicas ${fmt(m.replicasCores, 2)} + docker-proxy ${fmt(m.dockerProxyCores, 2)} + wrk ${fmt(m.wrkCores, 2)}`;
    if (loadCore >= 0.95) return `the load core (${fmt(loadCore * 100, 0)} % busy: ${load})`;
    if (proxyCore >= 0.8 && m.proxyCores >= 0.7) return `the proxy (its core ${fmt(proxyCore * 100, 0)} % busy, ${fmt(m.proxyCores, 2)} cores of it the proxy's; the load core ${fmt(loadCore * 100, 0)} %)`;
    return `no core saturated (CPUs ${busy} % busy; ${parts})`;
  }
  const mean = m.cpuBusy.reduce((a, b) => a + b, 0) / Math.max(1, m.cpuBusy.length);
  if (m.replicas === 1 && busiestReplica >= 0.85) return `the replica (one single-threaded node process at ${fmt(busiestReplica, 2)} cores)`;
  if (mean >= 0.85) return `the machine (its ${m.cpuBusy.length} cores ${fmt(mean * 100, 0)} % busy: ${parts}, other work ${fmt(m.otherCores, 2)})`;
  if (m.proxyCores >= 0.85) return `the proxy (single-threaded, ${fmt(m.proxyCores, 2)} cores)`;
  return `no core saturated (CPUs ${busy} % busy; ${parts})`;
}

