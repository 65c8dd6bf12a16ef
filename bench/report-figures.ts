/**
 * The figures of bench/run.sh's proxy benchmark (see report.ts): one round from
 * wrk's figures and the CPU ticks run.sh read, medians per target, berth's
 * ratios to the others, the targets it must meet, and the printed tables. Pure.
 */
import { median } from './lib/stats.js';
import { table } from './lib/table.js';
import { findWrkJson, wrkErrorCount, type WrkJson } from './lib/wrk.js';

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

export interface Meta {
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
  const json = findWrkJson(text);
  if (!json) throw new Error('wrk output has no WRK_JSON line (was wrk-report.lua used?)');
  return json;
}

export function parseTimeMaxRss(text: string): number | undefined {
  const m = /Maximum resident set size \(kbytes\):\s*(\d+)/.exec(text);
  return m ? Number(m[1]) : undefined;
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
    errors: wrkErrorCount(e),
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
