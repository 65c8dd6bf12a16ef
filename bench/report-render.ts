/**
 * What bench/run.sh's report says about its figures (report-figures.ts): each
 * berth row's ratios to the other rows, the targets of issue 11 with PASS/MISS,
 * and the printed tables. Pure.
 */
import { median } from './lib/stats.js';
import { table } from './lib/table.js';
import { isServe, isTls, labelOf, type Round, type TargetResult } from './report-figures.js';

/** Targets for the full gateway (berth serve), from issue 11, as ratios measured in the same run. */
export const TARGETS = {
  /** CPU per request, at most this many times the bare proxy's. */
  maxCpuVsBareProxy: 1.2,
  /** CPU per request, at most this many times nginx's. */
  maxCpuVsNginx: 3,
  /** Requests/s, at least this many times configurable-http-proxy's. */
  minThroughputVsChp: 5,
  /** p99 latency at 50 connections, at most direct's plus this many µs. */
  maxP99OverDirectUs: 1000,
  /** The connections the p99 target is stated for. */
  p99Connections: 50,
} as const;

/** Background CPU (cores) above which a round is flagged as disturbed. */
export const NOISY_CORES = 0.3;

export interface Ratios {
  /** The berth row these ratios are of. */
  of: string;
  vs: string;
  /** its requests/s ÷ theirs: above 1 means it serves more. */
  throughput: number;
  /** its CPU µs/request ÷ theirs: below 1 means it spends less. */
  cpuPerRequest: number;
  /** the same for user-space CPU alone (CPU less the kernel's): its own code against theirs. */
  userCpuPerRequest: number;
  p50: number;
  p99: number;
  /** its peak RSS ÷ theirs (VmHWM summed over each one's processes). */
  rss: number;
}

export function ratios(berth: TargetResult, other: TargetResult): Ratios {
  return {
    of: berth.target,
    vs: other.target,
    throughput: berth.requestsPerSecond / other.requestsPerSecond,
    cpuPerRequest: berth.cpuUsPerRequest / other.cpuUsPerRequest,
    userCpuPerRequest: userUs(berth) / userUs(other),
    p50: berth.latencyUs.p50 / other.latencyUs.p50,
    p99: berth.latencyUs.p99 / other.latencyUs.p99,
    rss: berth.vmHwmKb / other.vmHwmKb,
  };
}

/** CPU µs/request outside the kernel (NaN when the kernel's share was not read). */
export const userUs = (r: TargetResult): number => r.cpuUsPerRequest - r.kernelUsPerRequest;

/**
 * Each berth row against every other row: the full gateway's rows against direct,
 * the peers and the bare proxy; the bare proxy against direct and the peers.
 */
export function berthRatios(results: readonly TargetResult[]): Ratios[] {
  const out: Ratios[] = [];
  for (const b of results) {
    if (b.target === 'berth-serve-tls') {
      // The HTTPS row: berth serve over TLS against nginx over TLS with the same certificate.
      const nginxTls = results.find((o) => o.target === 'nginx-tls');
      if (nginxTls) out.push(ratios(b, nginxTls));
      continue;
    }
    if (!isServe(b.target) && b.target !== 'berth-proxy') continue;
    for (const o of results) {
      if (o === b || isServe(o.target) || isTls(o.target)) continue;
      if (b.target === 'berth-proxy' && o.target === 'berth-proxy') continue;
      out.push(ratios(b, o));
    }
  }
  return out;
}

/**
 * The ratio of two rows round by round (round k of one over round k of the other), as the median and
 * range of those ratios: undefined unless both ran the same rounds, at least two. Within a round the
 * targets run one after the other, so a machine that changes speed between rounds (this one swings
 * 1.7× at times) moves both sides of a pair, where the medians of each row's rounds can pair a fast
 * round of one with a slow round of the other.
 */
export function pairedByRound(of: TargetResult, vs: TargetResult, figure: (r: Round) => number): { median: number; range: [number, number] } | undefined {
  const theirs = new Map(vs.rounds.map((r) => [r.round, r]));
  const each = of.rounds.flatMap((r) => {
    const o = theirs.get(r.round);
    const x = o ? figure(r) / figure(o) : NaN;
    return Number.isFinite(x) ? [x] : [];
  });
  if (each.length < 2 || each.length !== of.rounds.length || each.length !== vs.rounds.length) return undefined;
  return { median: median(each), range: [Math.min(...each), Math.max(...each)] };
}

/** ", round by round 1.18× (1.15–1.30×)", or nothing when the rounds do not pair. */
function byRound(of: TargetResult, vs: TargetResult, figure: (r: Round) => number): string {
  const p = pairedByRound(of, vs, figure);
  return p ? `; round by round ${p.median.toFixed(2)}× (${p.range[0].toFixed(2)}–${p.range[1].toFixed(2)}×)` : '';
}

const cpuOf = (r: Round): number => r.cpuUsPerRequest;
const rpsOf = (r: Round): number => r.requestsPerSecond;

export interface Check {
  /** The serve row it is about. */
  of: string;
  name: string;
  value: string;
  target: string;
  met: boolean;
}

export interface Verdict {
  checks: Check[];
  met: boolean;
}

/** The targets, for each full-gateway row, as far as the run has the rows they compare with. */
export function verdictOf(byTarget: Map<string, TargetResult>, connections: number = TARGETS.p99Connections, pacedRate = 0): Verdict | undefined {
  const serves = [...byTarget.values()].filter((r) => isServe(r.target));
  if (serves.length === 0) return undefined;
  const checks: Check[] = [];
  const bare = byTarget.get('berth-proxy');
  const nginx = byTarget.get('nginx');
  const chp = byTarget.get('chp');
  const direct = byTarget.get('direct');
  for (const s of serves) {
    const of = s.target;
    if (bare) {
      const x = s.cpuUsPerRequest / bare.cpuUsPerRequest;
      checks.push({ of, name: 'CPU/request vs the bare proxy', value: `${x.toFixed(2)}× (${s.cpuUsPerRequest.toFixed(1)} / ${bare.cpuUsPerRequest.toFixed(1)} µs${byRound(s, bare, cpuOf)})`, target: `≤ ${TARGETS.maxCpuVsBareProxy}×`, met: x <= TARGETS.maxCpuVsBareProxy });
    }
    if (nginx) {
      const x = s.cpuUsPerRequest / nginx.cpuUsPerRequest;
      checks.push({ of, name: 'CPU/request vs nginx', value: `${x.toFixed(2)}× (${s.cpuUsPerRequest.toFixed(1)} / ${nginx.cpuUsPerRequest.toFixed(1)} µs${byRound(s, nginx, cpuOf)})`, target: `≤ ${TARGETS.maxCpuVsNginx}×`, met: x <= TARGETS.maxCpuVsNginx });
    }
    if (chp) {
      const x = s.requestsPerSecond / chp.requestsPerSecond;
      const paired = byRound(s, chp, rpsOf);
      checks.push({ of, name: 'throughput vs configurable-http-proxy', value: paired ? `${x.toFixed(2)}× (${paired.slice(2)})` : `${x.toFixed(2)}×`, target: `≥ ${TARGETS.minThroughputVsChp}×`, met: x >= TARGETS.minThroughputVsChp });
    }
    if (direct) {
      const at = connections === TARGETS.p99Connections ? `c${connections}` : `c${connections}, stated for c${TARGETS.p99Connections}`;
      // Saturated, p99 is mostly queueing (connections ÷ throughput): it tells throughput again, and
      // misses for nginx and HAProxy too. Paced below saturation, it is the latency the proxy adds.
      // Two arrival patterns: random gaps (independent clients) and equal gaps, where the
      // connections fall into step and come as one burst, whose last request waits for all the others.
      const paced = [
        { of: s.pacedLatencyUs, vs: direct.pacedLatencyUs, how: 'random gaps' },
        { of: s.pacedStepLatencyUs, vs: direct.pacedStepLatencyUs, how: `equal gaps: bursts of ${connections}` },
      ];
      for (const p of paced) {
        if (!p.of || !p.vs) continue;
        const over = p.of.p99 - p.vs.p99;
        checks.push({ of, name: `p99 over direct (${at}, paced at ${pacedRate} req/s, ${p.how})`, value: `${fmtDelta(over)} (${fmtLatency(p.of.p99)} vs ${fmtLatency(p.vs.p99)})`, target: `≤ +${fmtLatency(TARGETS.maxP99OverDirectUs)}`, met: over <= TARGETS.maxP99OverDirectUs });
      }
      const over = s.latencyUs.p99 - direct.latencyUs.p99;
      checks.push({ of, name: `p99 over direct (${at}, saturated)`, value: `${fmtDelta(over)} (${fmtLatency(s.latencyUs.p99)} vs ${fmtLatency(direct.latencyUs.p99)})`, target: `≤ +${fmtLatency(TARGETS.maxP99OverDirectUs)}`, met: over <= TARGETS.maxP99OverDirectUs });
    }
  }
  return { checks, met: checks.every((c) => c.met) };
}

function fmtDelta(us: number): string {
  return `${us < 0 ? '−' : '+'}${fmtLatency(Math.abs(us))}`;
}

function fmtLatency(us: number): string {
  return Math.abs(us) >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(0)} µs`;
}

function fmtMb(kb: number | undefined): string {
  return kb === undefined || !Number.isFinite(kb) || kb === 0 ? '-' : `${(kb / 1024).toFixed(1)} MB`;
}

const x = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '-');

export function render(results: TargetResult[], ratioList: Ratios[], verdict: Verdict | undefined, setup: string): string {
  const out: string[] = [setup, ''];
  const paced = results.some((r) => r.pacedLatencyUs);
  const step = results.some((r) => r.pacedStepLatencyUs);
  const kernel = results.some((r) => Number.isFinite(r.kernelUsPerRequest));
  const rows = [['target', 'req/s', 'req/s range', 'p50', 'p99', ...(paced ? ['paced p50', 'paced p99'] : []), ...(step ? ['in-step p99'] : []), 'CPU µs/req', 'CPU range', ...(kernel ? ['kernel µs/req'] : []), 'cores', 'peak RSS', 'errors']];
  for (const r of results) {
    rows.push([
      r.label,
      r.requestsPerSecond.toFixed(0),
      `${r.spread.requestsPerSecond[0].toFixed(0)}–${r.spread.requestsPerSecond[1].toFixed(0)}`,
      fmtLatency(r.latencyUs.p50),
      fmtLatency(r.latencyUs.p99),
      ...(paced ? [r.pacedLatencyUs ? fmtLatency(r.pacedLatencyUs.p50) : '-', r.pacedLatencyUs ? fmtLatency(r.pacedLatencyUs.p99) : '-'] : []),
      ...(step ? [r.pacedStepLatencyUs ? fmtLatency(r.pacedStepLatencyUs.p99) : '-'] : []),
      r.cpuUsPerRequest.toFixed(1),
      `${r.spread.cpuUsPerRequest[0].toFixed(1)}–${r.spread.cpuUsPerRequest[1].toFixed(1)}`,
      ...(kernel ? [Number.isFinite(r.kernelUsPerRequest) ? r.kernelUsPerRequest.toFixed(1) : '-'] : []),
      r.cpuCores.toFixed(2),
      fmtMb(r.vmHwmKb),
      String(r.errors),
    ]);
  }
  out.push(table(rows));
  out.push(
    '',
    'Medians over the rounds. CPU µs/req: user+system time of the proxy process(es) and their descendants ÷ requests',
    '(for "direct", the app container\'s processes); cores: that CPU ÷ wall time; peak RSS: VmHWM summed over those processes.',
    ...(kernel ? ['kernel µs/req: the system-time part of CPU µs/req (syscalls, the TCP stack, waking the peer); the rest is the proxy\'s own code.'] : []),
    ...(paced ? ['paced p50/p99: the same connections offering a fixed rate below saturation, each waiting a random gap between its requests: the latency each proxy adds.'] : []),
    ...(step ? ['in-step p99: the same rate with equal gaps: the connections fall into step and arrive as one burst, so its tail is draining a burst.'] : []),
  );
  const noisy = results.flatMap((t) => t.rounds.filter((r) => r.otherCores > NOISY_CORES).map((r) => `${t.target} round ${r.round} (${r.otherCores.toFixed(2)} cores)`));
  if (noisy.length > 0) out.push(`warning: other CPU load on the machine during ${noisy.join(', ')}: those figures are disturbed`);
  if (ratioList.length > 0) {
    out.push('', 'berth relative to each (throughput > 1×, CPU/request, latency and RSS < 1× favour berth):', '');
    const r2 = [['berth row vs', 'throughput', 'CPU/request', ...(kernel ? ['user CPU/req'] : []), 'p50', 'p99', 'RSS']];
    for (const r of ratioList) r2.push([`${labelOf(r.of)} vs ${labelOf(r.vs)}`, x(r.throughput), x(r.cpuPerRequest), ...(kernel ? [x(r.userCpuPerRequest)] : []), x(r.p50), x(r.p99), x(r.rss)]);
    out.push(table(r2));
  }
  if (verdict) {
    out.push('', 'targets for berth serve (issue 11; ratios of this run\'s medians, which decide; "round by round": the median of',
      'round k over round k, which a machine changing speed between rounds moves less; a noisy machine moves both by 10–20 %):');
    for (const c of verdict.checks) out.push(`  ${c.met ? 'PASS' : 'MISS'}  ${labelOf(c.of)}: ${c.name}: ${c.value} (target ${c.target})`);
  }
  return out.join('\n');
}
