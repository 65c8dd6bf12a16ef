import type { UsageRow } from '../store/store.js';
import type { UsageKind } from './usage-kind.js';

/** Figures of one app on one day; time in container-milliseconds (exact integers while they accrue). */
interface Entry {
  app: string;
  day: string;
  running: number;
  paused: number;
  idle: number;
  requests: number;
}

/**
 * Per app and UTC day totals gathered in memory between two writes to the
 * store. Small: one entry per app per day touched since the last flush.
 */
export class UsageLedger {
  private readonly entries = new Map<string, Entry>();

  get size(): number {
    return this.entries.size;
  }

  addTime(app: string, day: string, kind: UsageKind, containerMs: number): void {
    if (containerMs <= 0) return;
    this.entry(app, day)[kind] += containerMs;
  }

  addRequests(app: string, day: string, count = 1): void {
    this.entry(app, day).requests += count;
  }

  /** Adds rows back (a write the store refused), so nothing is lost. */
  addRows(rows: readonly UsageRow[]): void {
    for (const row of rows) {
      const e = this.entry(row.app, row.day);
      e.running += row.runningS * 1000;
      e.paused += row.pausedS * 1000;
      e.idle += row.idleS * 1000;
      e.requests += row.requests;
    }
  }

  /** The figures as store rows (seconds), without clearing them. */
  rows(): UsageRow[] {
    return [...this.entries.values()].map((e) => ({
      app: e.app,
      day: e.day,
      runningS: e.running / 1000,
      pausedS: e.paused / 1000,
      idleS: e.idle / 1000,
      requests: e.requests,
    }));
  }

  /** The figures as store rows, and the ledger emptied. */
  take(): UsageRow[] {
    const rows = this.rows();
    this.entries.clear();
    return rows;
  }

  private entry(app: string, day: string): Entry {
    const key = `${app}\u0000${day}`;
    let e = this.entries.get(key);
    if (!e) {
      e = { app, day, running: 0, paused: 0, idle: 0, requests: 0 };
      this.entries.set(key, e);
    }
    return e;
  }
}

/** Sums rows of the same app and day (stored figures plus what is not written yet). */
export function mergeRows(...lists: ReadonlyArray<readonly UsageRow[]>): UsageRow[] {
  const merged = new Map<string, UsageRow>();
  for (const row of lists.flat()) {
    const key = `${row.app}\u0000${row.day}`;
    const m = merged.get(key);
    if (!m) merged.set(key, { ...row });
    else {
      m.runningS += row.runningS;
      m.pausedS += row.pausedS;
      m.idleS += row.idleS;
      m.requests += row.requests;
    }
  }
  return [...merged.values()].sort((a, b) => (a.app === b.app ? a.day.localeCompare(b.day) : a.app.localeCompare(b.app)));
}
