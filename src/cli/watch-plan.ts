import { basename, dirname, relative, resolve, sep } from 'node:path';

/** What a watch plan asks of the file system: injected, so the plan itself is pure. */
export interface WatchProbe {
  isDirectory(path: string): boolean;
  /** The directory entries whose change changes what `path` reads (linkHops). */
  hops(path: string): Array<[dir: string, name: string]>;
}

/** One directory to watch: every entry (`all`), or the named ones, each with whether it was a directory when planned. */
export interface DirWatch {
  all: boolean;
  names: Map<string, boolean>;
}

/**
 * The directories to watch for `paths`. A file is watched through its directory, by
 * name (and each link hop's); a directory path so too, and itself whole. A directory on the way that
 * does not exist (a spec directory not made yet, a config directory deleted for a
 * redeploy) is watched from its nearest existing ancestor, by the name of the entry
 * that leads to it: its appearance re-plans the watch. Pure given the probe.
 */
export function watchPlan(paths: readonly string[], probe: WatchProbe): Map<string, DirWatch> {
  const plan = new Map<string, DirWatch>();
  const entry = (dir: string) => {
    let found = plan.get(dir);
    if (!found) plan.set(dir, (found = { all: false, names: new Map() }));
    return found;
  };
  const addName = (dir: string, name: string) => {
    const anchored = anchor(dir, probe);
    if (anchored) return void entry(anchored[0]).names.set(anchored[1], false);
    entry(dir).names.set(name, probe.isDirectory(resolve(dir, name)));
  };
  for (const given of paths) {
    const path = resolve(given);
    // A directory by its name too (and each link hop's): `ln -sfn releases/v3 apps`, as deploy tools
    // switch releases, changes nothing inside the directory watched before.
    if (probe.isDirectory(path)) entry(path).all = true;
    for (const [dir, name] of probe.hops(path)) addName(dir, name);
  }
  return plan;
}

/**
 * For a directory that does not exist: its nearest existing ancestor, and the
 * name there of the first missing entry on the way; undefined when `dir` exists
 * (or nothing above it does). Bounded by the path's depth.
 */
function anchor(dir: string, probe: WatchProbe): [string, string] | undefined {
  if (probe.isDirectory(dir)) return undefined;
  let at = dir;
  for (;;) {
    const up = dirname(at);
    if (up === at) return undefined;
    at = up;
    if (probe.isDirectory(at)) return [at, relative(at, dir).split(sep)[0]!];
  }
}

/** Whether two plans watch the same directories, for the same entries, each planned alike (a directory or not). Pure. */
export function samePlan(a: ReadonlyMap<string, DirWatch>, b: ReadonlyMap<string, DirWatch>): boolean {
  if (a.size !== b.size) return false;
  for (const [dir, watch] of a) {
    const other = b.get(dir);
    if (!other || other.all !== watch.all || other.names.size !== watch.names.size) return false;
    for (const [name, wasDirectory] of watch.names) if (other.names.get(name) !== wasDirectory) return false;
  }
  return true;
}

/** What an event in a watched directory calls for: nothing, a reload, or a new plan first (then a reload). */
export type WatchAction = 'ignore' | 'change' | 'replan';

/**
 * Decides on one event naming `file` in watched directory `dir` (planned as
 * `watch`). A new plan is made when the directory itself is named (inotify
 * reports its own deletion or move so: its watch is dead from then on), when the
 * platform names nothing, and when a named entry is or was a directory (one made,
 * removed, or renamed over: what lies under it is watched anew). Pure given `isDirectory`.
 */
export function eventAction(dir: string, watch: DirWatch, file: string | null, isDirectory: (path: string) => boolean): WatchAction {
  if (file === null || file === basename(dir)) return 'replan';
  const wasDirectory = watch.names.get(file);
  if (wasDirectory !== undefined && (wasDirectory || isDirectory(resolve(dir, file)))) return 'replan';
  return watch.all || wasDirectory !== undefined ? 'change' : 'ignore';
}
