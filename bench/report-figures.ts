/**
 * The figures of bench/run.sh's proxy benchmark (see report.ts): one round from
 * wrk's figures and the CPU ticks run.sh read, and the medians per target. The
 * ratios, the targets and the printed tables are in report-render.ts. Pure.
 */
import { median } from './lib/stats.js';
import { findWrkJson, wrkErrorCount, type WrkJson } from './lib/wrk.js';

const LABELS: Record<string, string> = {
  direct: 'direct (app container)',
  nginx: 'nginx proxy',
  haproxy: 'HAProxy',
  chp: 'configurable-http-proxy',
  'berth-proxy': 'berth bare proxy',
  'berth-serve': 'berth serve',
  'nginx-tls': 'nginx over TLS',
  'berth-serve-tls': 'berth serve over TLS',
  berth: 'berth',
};

/** The printed name of a target; berth-serve-w2 is "berth serve, workers 2". */
export function labelOf(target: string): string {
  const w = /^berth-serve-w(.+)$/.exec(target);
  return w ? `berth serve, workers ${w[1]}` : (LABELS[target] ?? target);
}

/** The HTTPS rows, compared with each other only. */
export const isTls = (target: string): boolean => target === 'nginx-tls' || target === 'berth-serve-tls';

/** The full gateway's targets: berth-serve, or one per BENCH_WORKERS value. */
export const isServe = (target: string): boolean => target === 'berth-serve' || target.startsWith('berth-serve-w');

export interface Meta {
  target: string;
  round: number;
  url: string;
  pids: number[];
  cpuTicks: number;
  /** Of cpuTicks, the kernel's (stime); absent in results from before it was read. */
  systemTicks?: number;
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
  /**
   * Of it, the kernel's (system time: the socket syscalls, the TCP stack, waking the peer); NaN when
   * not read. What is left is the proxy's own code, the part a faster proxy can remove.
   */
  kernelUsPerRequest: number;
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
  /** Latencies of the paced run after it (BENCH_PACED_RATE, random gaps), when there was one. */
  pacedLatencyUs?: WrkJson['latency_us'];
  /** ...and of its run with equal gaps (the connections in step, arriving as bursts). */
  pacedStepLatencyUs?: WrkJson['latency_us'];
}

export interface TargetResult {
  target: string;
  label: string;
  url: string;
  rounds: Round[];
  /** Medians over the rounds, each figure on its own. */
  requestsPerSecond: number;
  latencyUs: { p50: number; p99: number };
  /** Medians of the paced runs (below saturation), when the run had them: random gaps, and equal gaps (in step). */
  pacedLatencyUs?: { p50: number; p99: number };
  pacedStepLatencyUs?: { p50: number; p99: number };
  cpuUsPerRequest: number;
  kernelUsPerRequest: number;
  cpuCores: number;
  backendCpuUsPerRequest: number;
  otherCores: number;
  errors: number;
  spread: { requestsPerSecond: [number, number]; cpuUsPerRequest: [number, number] };
  /** Peak RSS from /proc VmHWM at the last round, summed over the process set (nginx: master + worker; berth serve: the gateway and its children). */
  vmHwmKb: number;
  /** `Maximum resident set size` reported by /usr/bin/time -v (largest single process). */
  timeMaxRssKb?: number;
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

export function roundOf(wrk: WrkJson, meta: Meta, direct: boolean, paced?: WrkJson, pacedStep?: WrkJson): Round {
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
    kernelUsPerRequest: meta.systemTicks === undefined ? NaN : perRequest(meta.systemTicks / hz),
    cpuCores: proxyS / durationS,
    backendCpuUsPerRequest: perRequest(backendS),
    wrkCpuUsPerRequest: perRequest(meta.wrkCpuS),
    otherCores: Math.max(0, (meta.machineBusyTicks / hz - ours) / durationS),
    vmHwmKb: meta.vmHwmKb,
    ...(paced ? { pacedLatencyUs: paced.latency_us } : {}),
    ...(pacedStep ? { pacedStepLatencyUs: pacedStep.latency_us } : {}),
  };
}

export function targetResult(target: string, url: string, rounds: Round[], timeText?: string): TargetResult {
  const pick = (f: (r: Round) => number) => median(rounds.map(f));
  const range = (f: (r: Round) => number): [number, number] => [Math.min(...rounds.map(f)), Math.max(...rounds.map(f))];
  return {
    target,
    label: labelOf(target),
    url,
    rounds,
    requestsPerSecond: pick((r) => r.requestsPerSecond),
    latencyUs: { p50: pick((r) => r.latencyUs.p50), p99: pick((r) => r.latencyUs.p99) },
    ...(rounds.every((r) => r.pacedLatencyUs) ? { pacedLatencyUs: { p50: pick((r) => r.pacedLatencyUs!.p50), p99: pick((r) => r.pacedLatencyUs!.p99) } } : {}),
    ...(rounds.every((r) => r.pacedStepLatencyUs) ? { pacedStepLatencyUs: { p50: pick((r) => r.pacedStepLatencyUs!.p50), p99: pick((r) => r.pacedStepLatencyUs!.p99) } } : {}),
    cpuUsPerRequest: pick((r) => r.cpuUsPerRequest),
    kernelUsPerRequest: pick((r) => r.kernelUsPerRequest),
    cpuCores: pick((r) => r.cpuCores),
    backendCpuUsPerRequest: pick((r) => r.backendCpuUsPerRequest),
    otherCores: pick((r) => r.otherCores),
    errors: rounds.reduce((n, r) => n + r.errors, 0),
    spread: { requestsPerSecond: range((r) => r.requestsPerSecond), cpuUsPerRequest: range((r) => r.cpuUsPerRequest) },
    vmHwmKb: rounds[rounds.length - 1]?.vmHwmKb ?? 0,
    timeMaxRssKb: timeText ? parseTimeMaxRss(timeText) : undefined,
  };
}
