import { PRUNE_CHUNK } from './history-rows.js';
import type { HistoryRetention } from './store.js';

/** The deletes a prune is made of; each one a short statement on one connection. */
export interface PruneSteps {
  /** Deletes up to one chunk of records older than `cutoff` (epoch ms); returns how many. */
  deleteOlderChunk(cutoff: number): number;
  /** Deletes up to one chunk of records whose id is at most `id`; returns how many. */
  deleteUpToChunk(id: number): number;
  /** The id at and below which records exceed `maxRecords`, if any. */
  countThreshold(maxRecords: number): number | undefined;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Deletes records older than now - maxAgeMs, then all but the newest maxRecords
 * (by insertion), in chunks with a turn of the event loop between them, so a
 * large prune never stalls whoever else runs on that thread (the proxy, or the
 * writer thread's appends). Infinity turns either bound off. Shared by the
 * in-process and the writer-thread history, so both prune alike.
 */
export async function pruneHistory(steps: PruneSteps, retention: HistoryRetention, nowMs: number): Promise<number> {
  let deleted = 0;
  const drain = async (step: () => number) => {
    for (;;) {
      const n = step();
      deleted += n;
      if (n < PRUNE_CHUNK) return;
      await nextTurn();
    }
  };
  if (retention.maxAgeMs !== Number.POSITIVE_INFINITY) {
    const cutoff = nowMs - retention.maxAgeMs;
    await drain(() => steps.deleteOlderChunk(cutoff));
  }
  if (retention.maxRecords !== Number.POSITIVE_INFINITY) {
    const threshold = steps.countThreshold(retention.maxRecords);
    if (threshold !== undefined) await drain(() => steps.deleteUpToChunk(threshold));
  }
  return deleted;
}
