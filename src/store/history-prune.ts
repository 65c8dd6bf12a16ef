import { PRUNE_CHUNK } from './history-rows.js';
import { appsOverLevel, cutGroups, fairLevel, historyCuts, type AppCount, type HistoryCut, type RecordKey } from './history-shares.js';
import type { HistoryRetention } from './store.js';

type Maybe<T> = T | Promise<T>;

/**
 * The statements a prune is made of, each a short one. SQLite's run synchronously on the
 * writer thread (or the main connection), PostgreSQL's are awaited.
 */
export interface PruneSteps {
  /** Deletes up to one chunk of records older than `cutoff` (epoch ms); returns how many. */
  deleteOlderChunk(cutoff: number): Maybe<number>;
  /** False when the history surely holds at most `maxRecords` (a cheap check that skips the rest). */
  mayExceed(maxRecords: number): Maybe<boolean>;
  /**
   * Apps per statement that counts or finds ranks. SQLite's run on the thread that also
   * appends: short statements, with a turn of the event loop between. PostgreSQL's run on
   * the server, so one statement for all (a page there would read the table again).
   */
  readonly appsPerStep: number;
  /** The record counts of up to `limit` apps after `after` ('' for the first: no app is named ''), in app order. */
  appCounts(after: string, limit: number): Maybe<AppCount[]>;
  /** Each app's record at 0-based rank `offset`, newest first; an app without one is left out. */
  recordsAtRank(apps: readonly string[], offset: number): Maybe<Map<string, RecordKey>>;
  /** Deletes up to one chunk of the records the cuts name; returns how many. */
  deleteCutChunk(cuts: readonly HistoryCut[]): Maybe<number>;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Deletes records older than now - maxAgeMs, then, while more than maxRecords are left,
 * each app's oldest down to its fair share (history-shares.ts: the largest apps give way
 * first, so one flooded app cannot push the others out). In chunks with a turn of the
 * event loop between them, so a large prune never stalls whoever else runs on that
 * thread (the proxy, or the writer thread's appends). Infinity turns either bound off.
 * Shared by the in-process and the writer-thread history and the PostgreSQL store, so all prune alike.
 */
export async function pruneHistory(steps: PruneSteps, retention: HistoryRetention, nowMs: number): Promise<number> {
  let deleted = 0;
  const drain = async (step: () => Maybe<number>) => {
    for (;;) {
      const n = await step();
      deleted += n;
      if (n < PRUNE_CHUNK) return;
      await nextTurn();
    }
  };
  if (retention.maxAgeMs !== Number.POSITIVE_INFINITY) {
    const cutoff = nowMs - retention.maxAgeMs;
    await drain(() => steps.deleteOlderChunk(cutoff));
  }
  const { maxRecords } = retention;
  if (maxRecords !== Number.POSITIVE_INFINITY && (await steps.mayExceed(maxRecords))) {
    const counts = await allAppCounts(steps);
    const level = fairLevel(counts, maxRecords);
    if (level !== undefined) {
      const over = appsOverLevel(counts, level.level);
      const atLevel = new Map<string, RecordKey>();
      for (let i = 0; i < over.length; i += steps.appsPerStep) {
        const found = await steps.recordsAtRank(over.slice(i, i + steps.appsPerStep).map((c) => c.app), level.level);
        for (const [app, key] of found) atLevel.set(app, key);
        await nextTurn();
      }
      for (const group of cutGroups(historyCuts(over, atLevel, level.level, level.spare), PRUNE_CHUNK)) {
        await drain(() => steps.deleteCutChunk(group));
        await nextTurn();
      }
    }
  }
  return deleted;
}

/** Every app's record count, appsPerStep apps a statement. */
async function allAppCounts(steps: PruneSteps): Promise<AppCount[]> {
  const counts: AppCount[] = [];
  let after = '';
  for (;;) {
    const page = await steps.appCounts(after, steps.appsPerStep);
    counts.push(...page);
    if (page.length < steps.appsPerStep) return counts;
    after = page[page.length - 1]!.app;
    await nextTurn();
  }
}
