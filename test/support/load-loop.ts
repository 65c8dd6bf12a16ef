import { Agent } from 'node:http';
import { timedGet } from './http-requests.js';

/** What a bounded load loop saw: every answer's status, every failure, and which instance (hostname) served. */
export interface LoadResult {
  requests: number;
  /** Requests answered with something other than 200, or not answered at all, as "status path" / "error message". */
  failures: string[];
  /** Requests served per container hostname (from the test app's /echo). */
  byHost: Map<string, number>;
}

/**
 * `clients` concurrent clients, each sending GETs of `path` (the test app's
 * /echo) one after another on a keep-alive connection, until `stop()` is
 * called or `maxMs` passed, whichever comes first, so it can never run away.
 */
export function loadLoop(port: number, path: string, options: { clients?: number; maxMs?: number; pauseMs?: number } = {}): { stop: () => Promise<LoadResult>; result: () => LoadResult } {
  const clients = options.clients ?? 4;
  const deadline = performance.now() + (options.maxMs ?? 20_000);
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const result: LoadResult = { requests: 0, failures: [], byHost: new Map() };
  let stopped = false;
  const client = async () => {
    while (!stopped && performance.now() < deadline) {
      result.requests++;
      try {
        const reply = await timedGet(port, path, { agent, timeoutMs: 10_000 });
        if (reply.status !== 200) {
          result.failures.push(`${reply.status} ${reply.body.slice(0, 200)}`);
          continue;
        }
        const host = (JSON.parse(reply.body) as { hostname?: string }).hostname ?? '?';
        result.byHost.set(host, (result.byHost.get(host) ?? 0) + 1);
      } catch (err) {
        result.failures.push(`error ${(err as Error).message}`);
      }
      if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
    }
  };
  const running = Promise.all(Array.from({ length: clients }, client));
  return {
    result: () => result,
    stop: async () => {
      stopped = true;
      await running;
      agent.destroy();
      return result;
    },
  };
}

/** Sends `n` GETs of `path` one after another and counts them per serving hostname. */
export async function hostCounts(port: number, path: string, n: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const reply = await timedGet(port, path, { timeoutMs: 10_000 });
    if (reply.status !== 200) throw new Error(`request ${i} of ${path}: ${reply.status} ${reply.body.slice(0, 200)}`);
    const host = (JSON.parse(reply.body) as { hostname: string }).hostname;
    counts.set(host, (counts.get(host) ?? 0) + 1);
  }
  return counts;
}
