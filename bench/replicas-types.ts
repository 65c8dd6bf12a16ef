/** What the replicas benchmark records: one wrk run, a cell's summary, one blue/green update, a replica. */
import type { Placement, Target } from './replicas-options.js';
import type { WrkJson } from './lib/wrk.js';

export interface Measurement {
  target: Target;
  replicas: number;
  placement: Placement;
  round: number;
  attempt: number;
  requests: number;
  durationS: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  errors: WrkJson['errors'];
  /** CPU time of the proxy's process(es) per request, µs. */
  proxyCpuUsPerRequest: number;
  proxyCores: number;
  replicasCores: number;
  replicaCoresEach: number[];
  dockerProxyCores: number;
  wrkCores: number;
  /** Busy fraction of each CPU over the run (all work, ours and others'). */
  cpuBusy: number[];
  otherCores: number;
  bottleneck: string;
}

export interface Group {
  replicas: number;
  placement: Placement;
  berth: ProxySummary;
  nginx: ProxySummary;
  ratio: { throughput: number; cpuPerRequest: number; p50: number; p99: number };
  /** Other work used more than 0.3 cores during these runs (median): the figures are less reliable. */
  disturbed: boolean;
  note: string;
}

export interface ProxySummary {
  requestsPerSecond: number;
  rpsRange: [number, number];
  p50Ms: number;
  p99Ms: number;
  proxyCpuUsPerRequest: number;
  proxyCores: number;
  replicasCores: number;
  dockerProxyCores: number;
  wrkCores: number;
  cpuBusy: number[];
  /** Cores other work on the machine used during the runs (median). */
  otherCores: number;
  errors: number;
  bottleneck: string;
}

export interface UpdateResult {
  update: number;
  env: Record<string, string>;
  applyStatus: number;
  action?: string;
  applyError?: string;
  applyMs: number;
  requests: number;
  ok: number;
  non2xx: number;
  non2xxByStatus: Record<string, number>;
  socketErrors: number;
  socketErrorsByCode: Record<string, number>;
  failedDuringApply: number;
  servedByUnknownInstance: number;
  oldInstances: number;
  newInstances: number;
  instancesAfter: number;
  allNewAfter: boolean;
  /** From the apply being sent: first answer from a new instance, last from an old one. */
  firstNewAnswerMs: number;
  lastOldAnswerMs: number;
  lastOldSentMs: number;
  /** First new answer − last old answer: positive, a pause without any answer at the switch; negative, both revisions answered for that long. */
  switchGapMs: number;
  /** Before: the last second before the apply; after: from its answer until the load stopped. */
  requestsPerSecond: { before: number; duringApply: number; after: number };
  latencyMs: { beforeP50: number; beforeP99: number; duringP50: number; duringP99: number; duringMax: number };
  /** Longest time without any answer, during the apply and in the second before it. */
  longestGapMs: { before: number; duringApply: number };
}

export interface Replica {
  id: string;
  hostname: string;
  port: number;
  pid: number;
  cpuNs: () => number;
}
