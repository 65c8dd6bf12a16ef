import type { AppSpec } from '../spec/types.js';
import { DesiredIndex } from './desired-index.js';

/**
 * Which apps an API change must be ordered with (change-lanes.ts), so that changes
 * run side by side only when neither can make the other wrong. A change that fails
 * is undone: the row it replaced comes back (or the app it created goes), so a
 * change of another app must not meanwhile have counted on the new row, nor taken
 * what the old one held. Pure.
 */

/**
 * An apply's apps: its own; the stored apps validating it reads (a route it claims,
 * what it depends on: DesiredIndex.related); and the apps with a change under way
 * whose replaced spec it would clash with, since that spec comes back if the change
 * is undone (`replaced`: app → its spec before the change under way).
 */
export function appsOfApply(given: readonly AppSpec[], desired: DesiredIndex | undefined, replaced: ReadonlyMap<string, AppSpec>): Set<string> {
  const apps = new Set(given.map((s) => s.name));
  for (const spec of desired?.related(given) ?? []) apps.add(spec.name);
  if (replaced.size > 0) {
    const before = new DesiredIndex();
    for (const spec of replaced.values()) before.set(spec);
    for (const spec of before.related(given)) apps.add(spec.name);
  }
  return apps;
}

/**
 * A delete's apps: its own, and the apps with a change under way whose replaced spec
 * depends on it (undone, that spec would depend on an app that is gone). The stored
 * apps that depend on it refuse the delete; each of their changes is ordered with it
 * already, as what they depend on is among an apply's apps.
 */
export function appsOfDelete(name: string, replaced: ReadonlyMap<string, AppSpec>): Set<string> {
  const apps = new Set([name]);
  for (const [app, spec] of replaced) if (spec.dependsOn.includes(name)) apps.add(app);
  return apps;
}
