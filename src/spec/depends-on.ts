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

/** What the cycle walk reads of an app: a store's check reads only these of the other apps' rows. */
export type DependsOnOf = Pick<AppSpec, 'name' | 'dependsOn'>;

/**
 * The cycles of a set of apps, each spelled out (`[a, b, a]`); names outside the set are
 * left out of the walk. For a store that checks a change against rows other gateways
 * wrote (pg-set-checks.ts).
 */
export function dependsOnCycles(apps: readonly DependsOnOf[]): string[][] {
  const index = new Map<string, number>();
  apps.forEach((app, i) => {
    if (!index.has(app.name)) index.set(app.name, i);
  });
  return walkCycles(apps, index).map((found) => found.loop);
}

function cycleIssues(specs: readonly AppSpec[], index: ReadonlyMap<string, number>): SpecIssue[] {
  return walkCycles(specs, index).map(({ app, entry, loop }) => ({
    path: ['apps', app, 'dependsOn', entry],
    message: `dependsOn forms a cycle: ${loop.join(' → ')}; an app cannot be woken before itself`,
  }));
}

/**
 * Every cycle, found by one depth-first walk in declared order: a dependency that
 * is still on the walk's stack closes a cycle, reported at the entry that closes
 * it (app index, dependsOn index) with the whole loop spelled out (`a → b → a`).
 * Self-dependencies and unknown names are left to the checks above.
 *
 * The walk keeps its own stack rather than recursing: a dependsOn chain a few
 * thousand apps long (one apply body holds more than ten thousand) overflowed the
 * call stack, and the apply was answered with a 500 instead of its problems.
 */
function walkCycles(specs: readonly DependsOnOf[], index: ReadonlyMap<string, number>): Array<{ app: number; entry: number; loop: string[] }> {
  const found: Array<{ app: number; entry: number; loop: string[] }> = [];
  const done = new Set<string>();
  /** The walk's path: each app, and which of its dependencies is looked at next. */
  const stack: WalkFrame[] = [];
  const onStack = new Set<string>();
  for (const start of index.keys()) {
    if (done.has(start)) continue;
    stack.push({ name: start, deps: specs[index.get(start)!]!.dependsOn, next: 0 });
    onStack.add(start);
    while (stack.length > 0) {
      const frame = stack.at(-1)!;
      if (frame.next === frame.deps.length) {
        stack.pop();
        onStack.delete(frame.name);
        done.add(frame.name);
        continue;
      }
      const j = frame.next++;
      const dep = frame.deps[j]!;
      if (dep === frame.name || !index.has(dep) || done.has(dep)) continue;
      if (onStack.has(dep)) {
        const path = stack.map((f) => f.name);
        found.push({ app: index.get(frame.name)!, entry: j, loop: [...path.slice(path.indexOf(dep)), dep] });
        continue;
      }
      stack.push({ name: dep, deps: specs[index.get(dep)!]!.dependsOn, next: 0 });
      onStack.add(dep);
    }
  }
  return found;
}

/** One app on a depth-first walk of dependsOn, and the index of its next dependency to look at. */
interface WalkFrame {
  name: string;
  deps: readonly string[];
  next: number;
}

/**
 * The apps to wake before `app`, in order: dependencies before their dependents,
 * transitively, each once; depth-first in declared order, so `web: [api, cache]`
 * with `api: [db]` and `cache: [db]` gives `db, api, cache`. `app` itself is not
 * in the list. Pure; names missing from `specs` are skipped and a cycle cannot
 * loop (both are refused by validation anyway). Walked with its own stack, as
 * cycleIssues is, so a long chain cannot overflow the call stack.
 */
export function wakeOrder(app: string, specs: ReadonlyMap<string, AppSpec>): string[] {
  const order: string[] = [];
  const seen = new Set<string>([app]);
  const stack: WalkFrame[] = [{ name: app, deps: specs.get(app)?.dependsOn ?? [], next: 0 }];
  while (stack.length > 0) {
    const frame = stack.at(-1)!;
    if (frame.next === frame.deps.length) {
      stack.pop();
      // Woken once all its own dependencies are: after them, before its dependent.
      if (stack.length > 0) order.push(frame.name);
      continue;
    }
    const dep = frame.deps[frame.next++]!;
    if (seen.has(dep) || !specs.has(dep)) continue;
    seen.add(dep);
    stack.push({ name: dep, deps: specs.get(dep)!.dependsOn, next: 0 });
  }
  return order;
}

/**
 * The apps that depend on `app`, directly or through others, in declared order:
 * while any of them is up, `app` must stay up. (The activator keeps a dependency
 * up by holding it open while a dependent runs; this is for reports and tests.)
 */
export function dependents(app: string, specs: ReadonlyMap<string, AppSpec>): string[] {
  // One walk up the reversed edges, not a wakeOrder per app (quadratic in the number of apps).
  // The same answer: an app in `specs` reached from `app` through apps in `specs`.
  if (!specs.has(app)) return [];
  const needers = new Map<string, string[]>();
  for (const [name, spec] of specs) {
    for (const dep of spec.dependsOn) {
      if (!specs.has(dep)) continue;
      let list = needers.get(dep);
      if (!list) needers.set(dep, (list = []));
      list.push(name);
    }
  }
  const reached = new Set<string>([app]);
  const queue = [app];
  for (let i = 0; i < queue.length; i++) {
    for (const name of needers.get(queue[i]!) ?? []) {
      if (reached.has(name)) continue;
      reached.add(name);
      queue.push(name);
    }
  }
  return [...specs.keys()].filter((name) => name !== app && reached.has(name));
}
