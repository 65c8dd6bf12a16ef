import type { UsageRow } from '../store/store.js';

/**
 * What an app (or all of them) used over some time, and what stopping it when
 * idle saved.
 *
 * - runningSeconds, pausedSeconds, idleSeconds: container-seconds (seconds ×
 *   containers). Idle time is counted per declared replica: it is the
 *   container-seconds that did not run.
 * - alwaysOnSeconds: what running it always on would have used over the time
 *   the gateway watched it: running + paused + idle, i.e. the seconds it was
 *   declared × its replica count. Time the gateway was down is not in it.
 * - savingSeconds: alwaysOn − running. Paused time counts as saved (a frozen
 *   container uses no CPU, though it keeps its memory).
 * - savingPercent: saving / alwaysOn × 100; null when nothing was watched.
 */
export interface UsageFigures {
  runningSeconds: number;
  pausedSeconds: number;
  idleSeconds: number;
  requests: number;
  alwaysOnSeconds: number;
  savingSeconds: number;
  savingPercent: number | null;
}

export interface UsageReport {
  /** The first UTC day included (YYYY-MM-DD); figures are kept per whole day. */
  since: string;
  /** When the report was made; today's figures run up to here. */
  until: string;
  /** One row per app per UTC day, by app then day. */
  days: Array<{ app: string; day: string } & UsageFigures>;
  /** Each app's totals over the days, by app. */
  apps: Array<{ app: string; days: number } & UsageFigures>;
  /** All apps together. */
  total: UsageFigures;
}

export function buildReport(rows: readonly UsageRow[], since: string, until: Date): UsageReport {
  const byApp = new Map<string, UsageRow[]>();
  for (const row of rows) byApp.set(row.app, [...(byApp.get(row.app) ?? []), row]);
  const apps = [...byApp.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([app, list]) => ({ app, days: list.length, ...figures(list) }));
  return {
    since,
    until: until.toISOString(),
    days: rows.map((row) => ({ app: row.app, day: row.day, ...figures([row]) })),
    apps,
    total: figures(rows),
  };
}

/** Sums rows and works out the saving; seconds to the millisecond, percent to two decimals. */
export function figures(rows: readonly UsageRow[]): UsageFigures {
  let running = 0;
  let paused = 0;
  let idle = 0;
  let requests = 0;
  for (const r of rows) {
    running += r.runningS;
    paused += r.pausedS;
    idle += r.idleS;
    requests += r.requests;
  }
  const alwaysOn = running + paused + idle;
  const saving = alwaysOn - running;
  return {
    runningSeconds: round(running, 3),
    pausedSeconds: round(paused, 3),
    idleSeconds: round(idle, 3),
    requests,
    alwaysOnSeconds: round(alwaysOn, 3),
    savingSeconds: round(saving, 3),
    savingPercent: alwaysOn > 0 ? round((saving / alwaysOn) * 100, 2) : null,
  };
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
