/** What one measured run of the cold-start benchmark records. */
import type { Summary } from './lib/stats.js';

export interface FloorRun {
  ms: number;
  engineMs: number;
  pollMs: number;
  attempts: number;
  timeouts: number;
  load: number;
}

export interface BerthRun {
  ms: number;
  /** The activator's own figure: start began → ready. */
  lastStartMs?: number;
  /** Engine API calls during the run, relative to the request being sent. */
  calls: Array<{ call: string; at: number; ms: number }>;
  /** From the request being sent until berth called the engine's start (or unpause). */
  beforeCallMs: number;
  /** From that call's answer to the response: port lookup, readiness wait, proxying. */
  afterCallMs: number;
  starts: number;
  load: number;
}

export interface BurstResult {
  requests: number;
  ok: number;
  failed: number;
  statuses: Record<string, number>;
  errors: Record<string, number>;
  starts: number;
  /** How long the client took to hand all requests to the socket layer. */
  sentMs: number;
  firstMs: number;
  lastMs: number;
  latency: Summary;
  /** Requests served a second or more after the burst: usually a SYN dropped by a full accept queue and resent. */
  servedAfter1s: number;
  /** berth's own figure for that start: start began → ready. */
  lastStartMs?: number;
  /** Cores other work used just before the burst. */
  load: number;
  /** The kernel's TcpExt ListenOverflows during the burst (whole network namespace): connections a full accept queue refused. */
  listenOverflows?: number;
  /** The same counter inside the app container's network namespace (fresh at each start): the app's own accept queue. */
  appListenOverflows?: number;
  servedMs: number[];
}

export interface Pair {
  floor: FloorRun[];
  berth: BerthRun[];
}
