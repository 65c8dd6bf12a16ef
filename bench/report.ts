/**
 * Turns one benchmark run's raw files (written by bench/run.sh) into the table
 * it prints and the JSON it keeps. Per target and round r:
 *
 *   <target>.r<r>.wrk.txt      wrk's output, ending with the WRK_JSON line of wrk-report.lua
 *   <target>.r<r>.wrk.txt.cpu  wrk's own user and system seconds
 *   <target>.r<r>.meta.json    CPU ticks of the measured process(es), of the backend and of
 *                              the whole machine over that wrk run; VmHWM
 * and per process `<name>.time.txt`, its `/usr/bin/time -v` report.
 *
 *   node dist/bench/report.js --run <dir> --targets "direct nginx chp berth" --rounds 3 --json <file>
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

/** Targets for berth, from the issue: ≥ 4× CHP's throughput, ≤ 70 µs CPU per proxied request. */
export const TARGETS = { minThroughputVsChp: 4, maxCpuUsPerRequest: 70 } as const;

const LABELS: Record<string, string> = {
  direct: 'backend direct',
  nginx: 'nginx proxy',
  chp: 'configurable-http-proxy',
  berth: 'berth',
};

/** Background CPU (cores) above which a round is flagged as disturbed. */
const NOISY_CORES = 0.3;

interface WrkJson {
  requests: number;
  duration_us: number;
  bytes: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latency_us: { mean: number; p50: number; p90: number; p99: number; max: number };
}

interface Meta {
  target: string;
  round: number;
  url: string;
  pids: number[];
  cpuTicks: number;
  backendCpuTicks: number;
  machineBusyTicks: number;
  wrkCpuS: number;
  clockTicksPerSecond: number;
  vmHwmKb: number;
}

export interface Round {
  round: number;
  requests: number;
  durationS: number;
  requestsPerSecond: number;
  latencyUs: WrkJson['latency_us'];
  errors: number;
  errorDetail: WrkJson['errors'];
  /** CPU (user + system) of the measured process(es) per request; for `direct`, of the backend. */
  cpuUsPerRequest: number;
  /** The measured process(es)' CPU as a share of one core over the run. */
  cpuCores: number;
  /** The backend's CPU per request (for `direct`, the same as cpuUsPerRequest). */
  backendCpuUsPerRequest: number;
  /** wrk's own CPU per request. */
  wrkCpuUsPerRequest: number;
  /**
   * CPU used on the machine by anything but the proxy, the backend and wrk
   * (other work on the machine; some kernel softirq time), in cores.
   */
  otherCores: number;
  vmHwmKb: number;
}

export interface TargetResult {
  target: string;
  label: string;
  url: string;
  rounds: Round[];
  /** Medians over the rounds, each figure on its own. */
  requestsPerSecond: number;
  latencyUs: { p50: number; p99: number };
  cpuUsPerRequest: number;
  cpuCores: number;
  backendCpuUsPerRequest: number;
  otherCores: number;
  errors: number;
  spread: { requestsPerSecond: [number, number]; cpuUsPerRequest: [number, number] };
  /** Peak RSS from /proc VmHWM at the last round, summed over the process set (nginx: master + worker). */
  vmHwmKb: number;
  /** `Maximum resident set size` reported by /usr/bin/time -v (largest single process). */
  timeMaxRssKb?: number;
}

export interface Ratios {
  vs: string;
  /** berth requests/s ÷ theirs: above 1 means berth serves more. */
  throughput: number;
  /** berth CPU µs/request ÷ theirs: below 1 means berth spends less. */
  cpuPerRequest: number;
  p50: number;
  p99: number;
}

export function parseWrk(text: string): WrkJson {
  const line = text.split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (!line) throw new Error('wrk output has no WRK_JSON line (was wrk-report.lua used?)');
  return JSON.parse(line.slice('WRK_JSON '.length)) as WrkJson;
}

export function parseTimeMaxRss(text: string): number | undefined {
  const m = /Maximum resident set size \(kbytes\):\s*(\d+)/.exec(text);
  return m ? Number(m[1]) : undefined;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function roundOf(wrk: WrkJson, meta: Meta, direct: boolean): Round {
  const hz = meta.clockTicksPerSecond;
  const durationS = wrk.duration_us / 1e6;
  const perRequest = (seconds: number) => (wrk.requests > 0 ? (seconds * 1e6) / wrk.requests : NaN);
  const proxyS = meta.cpuTicks / hz;
  const backendS = meta.backendCpuTicks / hz;
  const ours = proxyS + (direct ? 0 : backendS) + meta.wrkCpuS;
  const e = wrk.errors;
  return {
    round: meta.round,
    requests: wrk.requests,
    durationS,
    requestsPerSecond: wrk.requests / durationS,
    latencyUs: wrk.latency_us,
    errors: e.connect + e.read + e.write + e.status + e.timeout,
    errorDetail: e,
    cpuUsPerRequest: perRequest(proxyS),
    cpuCores: proxyS / durationS,
    backendCpuUsPerRequest: perRequest(backendS),
    wrkCpuUsPerRequest: perRequest(meta.wrkCpuS),
    otherCores: Math.max(0, (meta.machineBusyTicks / hz - ours) / durationS),
    vmHwmKb: meta.vmHwmKb,
  };
}

export function targetResult(target: string, url: string, rounds: Round[], timeText?: string): TargetResult {
  const pick = (f: (r: Round) => number) => median(rounds.map(f));
  const range = (f: (r: Round) => number): [number, number] => [Math.min(...rounds.map(f)), Math.max(...rounds.map(f))];
  return {
    target,
    label: LABELS[target] ?? target,
    url,
    rounds,
    requestsPerSecond: pick((r) => r.requestsPerSecond),
    latencyUs: { p50: pick((r) => r.latencyUs.p50), p99: pick((r) => r.latencyUs.p99) },
    cpuUsPerRequest: pick((r) => r.cpuUsPerRequest),
    cpuCores: pick((r) => r.cpuCores),
    backendCpuUsPerRequest: pick((r) => r.backendCpuUsPerRequest),
    otherCores: pick((r) => r.otherCores),
    errors: rounds.reduce((n, r) => n + r.errors, 0),
    spread: { requestsPerSecond: range((r) => r.requestsPerSecond), cpuUsPerRequest: range((r) => r.cpuUsPerRequest) },
    vmHwmKb: rounds[rounds.length - 1]?.vmHwmKb ?? 0,
    timeMaxRssKb: timeText ? parseTimeMaxRss(timeText) : undefined,
  };
}

export function ratios(berth: TargetResult, other: TargetResult): Ratios {
  return {
    vs: other.target,
    throughput: berth.requestsPerSecond / other.requestsPerSecond,
    cpuPerRequest: berth.cpuUsPerRequest / other.cpuUsPerRequest,
    p50: berth.latencyUs.p50 / other.latencyUs.p50,
    p99: berth.latencyUs.p99 / other.latencyUs.p99,
  };
}

export interface Verdict {
  checks: { name: string; value: string; target: string; met: boolean }[];
  met: boolean;
}

export function verdictOf(byTarget: Map<string, TargetResult>): Verdict | undefined {
  const berth = byTarget.get('berth');
  if (!berth) return undefined;
  const checks: Verdict['checks'] = [];
  const chp = byTarget.get('chp');
  if (chp) {
    const x = berth.requestsPerSecond / chp.requestsPerSecond;
    checks.push({ name: 'throughput vs configurable-http-proxy', value: `${x.toFixed(2)}×`, target: `≥ ${TARGETS.minThroughputVsChp}×`, met: x >= TARGETS.minThroughputVsChp });
  }
  checks.push({
    name: 'CPU per proxied request',
    value: `${berth.cpuUsPerRequest.toFixed(1)} µs`,
    target: `≤ ${TARGETS.maxCpuUsPerRequest} µs`,
    met: berth.cpuUsPerRequest <= TARGETS.maxCpuUsPerRequest,
  });
  return { checks, met: checks.every((c) => c.met) };
}

function fmtLatency(us: number): string {
  return us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(0)} µs`;
}

function fmtMb(kb: number | undefined): string {
  return kb === undefined ? '-' : `${(kb / 1024).toFixed(1)} MB`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => [...(r[c] ?? '')].length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export function render(results: TargetResult[], ratioList: Ratios[], verdict: Verdict | undefined, setup: string): string {
  const out: string[] = [setup, ''];
  const rows = [['target', 'req/s', 'req/s range', 'p50', 'p99', 'CPU µs/req', 'CPU range', 'cores', 'max RSS', 'errors']];
  for (const r of results) {
    rows.push([
      r.label,
      r.requestsPerSecond.toFixed(0),
      `${r.spread.requestsPerSecond[0].toFixed(0)}–${r.spread.requestsPerSecond[1].toFixed(0)}`,
      fmtLatency(r.latencyUs.p50),
      fmtLatency(r.latencyUs.p99),
      r.cpuUsPerRequest.toFixed(1),
      `${r.spread.cpuUsPerRequest[0].toFixed(1)}–${r.spread.cpuUsPerRequest[1].toFixed(1)}`,
      r.cpuCores.toFixed(2),
      fmtMb(r.timeMaxRssKb ?? r.vmHwmKb),
      String(r.errors),
    ]);
  }
  out.push(table(rows));
  out.push(
    '',
    'Medians over the rounds. CPU µs/req: user+system time of the proxy process(es) ÷ requests',
    '(for "backend direct", the backend itself); cores: that CPU ÷ wall time; max RSS: /usr/bin/time -v.',
  );
  const noisy = results.flatMap((t) => t.rounds.filter((r) => r.otherCores > NOISY_CORES).map((r) => `${t.target} round ${r.round} (${r.otherCores.toFixed(2)} cores)`));
  if (noisy.length > 0) out.push(`warning: other CPU load on the machine during ${noisy.join(', ')}: those figures are disturbed`);
  if (ratioList.length > 0) {
    out.push('', 'berth relative to each (throughput > 1× and CPU/request < 1× favour berth):', '');
    const r2 = [['berth vs', 'throughput', 'CPU/request', 'p50', 'p99']];
    for (const r of ratioList) {
      r2.push([LABELS[r.vs] ?? r.vs, `${r.throughput.toFixed(2)}×`, `${r.cpuPerRequest.toFixed(2)}×`, `${r.p50.toFixed(2)}×`, `${r.p99.toFixed(2)}×`]);
    }
    out.push(table(r2));
  }
  if (verdict) {
    out.push('', 'targets for berth:');
    for (const c of verdict.checks) out.push(`  ${c.met ? 'met   ' : 'MISSED'}  ${c.name}: ${c.value} (target ${c.target})`);
  }
  return out.join('\n');
}

function arg(argv: string[], name: string, fallback?: string): string {
  const i = argv.indexOf(name);
  const v = i >= 0 ? argv[i + 1] : fallback;
  if (v === undefined) throw new Error(`missing ${name}`);
  return v;
}

function main(argv: string[]): void {
  const run = arg(argv, '--run');
  const targets = arg(argv, '--targets').split(/\s+/).filter(Boolean);
  const roundCount = Number(arg(argv, '--rounds', '1'));
  const results: TargetResult[] = [];
  for (const t of targets) {
    const rounds: Round[] = [];
    let url = '';
    for (let r = 1; r <= roundCount; r++) {
      const base = join(run, `${t}.r${r}`);
      const meta = JSON.parse(readFileSync(`${base}.meta.json`, 'utf8')) as Meta;
      url = meta.url;
      rounds.push(roundOf(parseWrk(readFileSync(`${base}.wrk.txt`, 'utf8')), meta, t === 'direct'));
    }
    const timeFile = join(run, `${t === 'direct' ? 'backend' : t}.time.txt`);
    results.push(targetResult(t, url, rounds, existsSync(timeFile) ? readFileSync(timeFile, 'utf8') : undefined));
  }
  const byTarget = new Map(results.map((r) => [r.target, r]));
  const berth = byTarget.get('berth');
  const ratioList = berth ? results.filter((r) => r.target !== 'berth').map((r) => ratios(berth, r)) : [];
  const verdict = verdictOf(byTarget);
  const pinned = arg(argv, '--pinned', '0') === '1';
  const setup = {
    cpus: Number(arg(argv, '--cpus', '0')),
    rounds: roundCount,
    duration: arg(argv, '--duration', '?'),
    warmup: arg(argv, '--warmup', '?'),
    connections: Number(arg(argv, '--connections', '0')),
    wrkThreads: Number(arg(argv, '--threads', '0')),
    pinned,
    loadCpu: pinned ? Number(arg(argv, '--load-cpu', '0')) : undefined,
    proxyCpu: pinned ? Number(arg(argv, '--proxy-cpu', '1')) : undefined,
  };
  const setupLine =
    `wrk ${setup.wrkThreads} thread(s), ${setup.connections} connections, ${setup.rounds} round(s) of ${setup.duration} per target ` +
    `after a ${setup.warmup} warm-up; ` +
    (pinned ? `proxy on CPU ${setup.proxyCpu}, wrk + backend on CPU ${setup.loadCpu}` : 'not pinned') +
    `; node ${process.version}`;
  process.stdout.write(render(results, ratioList, verdict, setupLine) + '\n');
  const json = {
    date: new Date().toISOString(),
    node: process.version,
    setup,
    targets: TARGETS,
    results,
    berthRatios: ratioList,
    verdict,
  };
  writeFileSync(arg(argv, '--json'), JSON.stringify(json, null, 2) + '\n');
}

main(process.argv.slice(2));
