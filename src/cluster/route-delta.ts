import type { RouteEntry } from './state-feed.js';

/** What changed in the routed apps: entries new or different, and apps no longer routed. */
export interface RouteDelta {
  set: RouteEntry[];
  removed: string[];
}

/**
 * The change from `before` to `next` (the whole routed set). An entry that is
 * the same object as before is unchanged without a look (the gateway reuses an
 * unchanged spec's entry); another is compared by value. Pure.
 */
export function routeDelta(before: ReadonlyMap<string, RouteEntry>, next: readonly RouteEntry[]): RouteDelta {
  const set: RouteEntry[] = [];
  let kept = 0;
  for (const entry of next) {
    const old = before.get(entry.app);
    if (old !== undefined) kept++;
    if (old !== entry && (old === undefined || JSON.stringify(old) !== JSON.stringify(entry))) set.push(entry);
  }
  // Every app routed before is still there (an apply, not a delete): no set of names to build.
  if (kept === before.size) return { set, removed: [] };
  const names = new Set(next.map((e) => e.app));
  const removed: string[] = [];
  for (const app of before.keys()) if (!names.has(app)) removed.push(app);
  return { set, removed };
}

/** Applies a delta to the routed set in place (a worker's copy). */
export function applyRouteDelta(routes: Map<string, RouteEntry>, delta: RouteDelta): void {
  for (const app of delta.removed) routes.delete(app);
  for (const entry of delta.set) routes.set(entry.app, entry);
}
