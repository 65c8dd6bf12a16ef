/**
 * Groups: an app's `dependsOn` names apps woken before it (a database before its
 * web app). Checked over a whole set, because the names refer to other apps: each
 * must exist, none may be the app itself, and no chain may lead back to where it
 * started. `wakeOrder` is what the activator follows once a set is accepted.
 */
import type { SpecIssue } from './path.js';
import type { AppSpec } from './types.js';

/** Problems with the set's dependsOn lists, located as `apps[i].dependsOn[j]`. */
export function dependsOnIssues(specs: readonly AppSpec[]): SpecIssue[] {
  const issues: SpecIssue[] = [];
  // Same-named apps are reported by the name check; the first one is the one meant.
  const index = new Map<string, number>();
  specs.forEach((spec, i) => {
    if (!index.has(spec.name)) index.set(spec.name, i);
  });
  specs.forEach((spec, i) => {
    const seen = new Set<string>();
    spec.dependsOn.forEach((dep, j) => {
      const path = ['apps', i, 'dependsOn', j];
      if (dep === spec.name) issues.push({ path, message: `app "${spec.name}" cannot depend on itself` });
      else if (!index.has(dep)) issues.push({ path, message: `app "${spec.name}" depends on "${dep}", which is not a declared app` });
      else if (seen.has(dep)) issues.push({ path, message: `app "${spec.name}" lists "${dep}" twice` });
      seen.add(dep);
    });
  });
  return [...issues, ...cycleIssues(specs, index)];
}

/**
 * Every cycle, found by one depth-first walk in declared order: a dependency that
 * is still on the walk's stack closes a cycle, reported at the entry that closes
 * it with the whole loop spelled out (`a → b → a`). Self-dependencies and unknown
 * names are left to the checks above.
 */
function cycleIssues(specs: readonly AppSpec[], index: ReadonlyMap<string, number>): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const done = new Set<string>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const visit = (name: string): void => {
    const i = index.get(name)!;
    stack.push(name);
    onStack.add(name);
    specs[i]!.dependsOn.forEach((dep, j) => {
      if (dep === name || !index.has(dep) || done.has(dep)) return;
      if (onStack.has(dep)) {
        const loop = [...stack.slice(stack.indexOf(dep)), dep];
        issues.push({ path: ['apps', i, 'dependsOn', j], message: `dependsOn forms a cycle: ${loop.join(' → ')}; an app cannot be woken before itself` });
        return;
      }
      visit(dep);
    });
    stack.pop();
    onStack.delete(name);
    done.add(name);
  };
  for (const name of index.keys()) if (!done.has(name)) visit(name);
  return issues;
}

/**
 * The apps to wake before `app`, in order: dependencies before their dependents,
 * transitively, each once; depth-first in declared order, so `web: [api, cache]`
 * with `api: [db]` and `cache: [db]` gives `db, api, cache`. `app` itself is not
 * in the list. Pure; names missing from `specs` are skipped and a cycle cannot
 * loop (both are refused by validation anyway).
 */
export function wakeOrder(app: string, specs: ReadonlyMap<string, AppSpec>): string[] {
  const order: string[] = [];
  const seen = new Set<string>([app]);
  const visit = (name: string): void => {
    for (const dep of specs.get(name)?.dependsOn ?? []) {
      if (seen.has(dep) || !specs.has(dep)) continue;
      seen.add(dep);
      visit(dep);
      order.push(dep);
    }
  };
  visit(app);
  return order;
}

/**
 * The apps that depend on `app`, directly or through others, in declared order:
 * while any of them is up, `app` must stay up. (The activator keeps a dependency
 * up by holding it open while a dependent runs; this is for reports and tests.)
 */
export function dependents(app: string, specs: ReadonlyMap<string, AppSpec>): string[] {
  return [...specs.keys()].filter((name) => name !== app && wakeOrder(name, specs).includes(app));
}
