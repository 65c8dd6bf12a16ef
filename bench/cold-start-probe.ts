/** The cold-start benchmark's GETs: berth's answer, and the floor's readiness poll of a container's published port. */
import { setTimeout as sleep } from 'node:timers/promises';
import { get as httpGet, type Reply } from './lib/http.js';

/** Per-attempt timeout of the floor's poll, like berth's first readiness attempts. */
const PROBE_TIMEOUT_MS = 25;
/** Pause between the floor's poll attempts: as tight as a timer allows. */
const PROBE_GAP_MS = 1;
/** No single measured step may take longer than this. */
export const STEP_LIMIT_MS = 30_000;

/** One GET on a fresh connection; rejects on error or when no full answer came within `timeoutMs`. */
export const get = (port: number, path: string, timeoutMs: number): Promise<Reply> => httpGet(port, path, timeoutMs, { userAgent: 'berth-cold-bench' });

export interface PollResult {
  ms: number;
  attempts: number;
  timeouts: number;
}

/**
 * The floor's readiness poll: GET /ping on fresh connections, 25 ms per attempt,
 * 1 ms apart, until the first 200. `since` is the time the measurement began.
 */
export async function pollUntil200(port: number, since: number): Promise<PollResult> {
  const deadline = since + STEP_LIMIT_MS;
  let attempts = 0;
  let timeouts = 0;
  while (performance.now() < deadline) {
    attempts++;
    try {
      const reply = await get(port, '/ping', PROBE_TIMEOUT_MS);
      if (reply.status === 200) return { ms: performance.now() - since, attempts, timeouts };
    } catch (err) {
      if (/no answer within/.test((err as Error).message)) timeouts++;
    }
    await sleep(PROBE_GAP_MS);
  }
  throw new Error(`127.0.0.1:${port} gave no 200 within ${STEP_LIMIT_MS} ms (${attempts} attempts)`);
}
