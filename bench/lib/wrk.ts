/** wrk's figures, as bench/wrk-report.lua prints them on its `WRK_JSON {...}` line. */

export interface WrkJson {
  requests: number;
  duration_us: number;
  bytes: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latency_us: { mean: number; p50: number; p90: number; p99: number; max: number };
}

/** The WRK_JSON line of wrk's output, parsed; undefined when there is none. */
export function findWrkJson(text: string): WrkJson | undefined {
  const line = text.split('\n').find((l) => l.startsWith('WRK_JSON '));
  return line ? (JSON.parse(line.slice('WRK_JSON '.length)) as WrkJson) : undefined;
}

/** All of wrk's errors of a run. */
export const wrkErrorCount = (e: WrkJson['errors']): number => e.connect + e.read + e.write + e.status + e.timeout;
