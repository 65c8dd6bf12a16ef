import { lstatSync, readlinkSync, statSync, watch } from 'node:fs';
import { basename, dirname, relative, resolve, sep } from 'node:path';
import { eventAction, samePlan, watchPlan } from './watch-plan.js';

export interface FileWatch {
  close(): void;
}

/** Opens a watch on one directory; `onEvent` gets the entry named (null when the platform names none). */
export type OpenWatch = (dir: string, onEvent: (file: string | null) => void) => { close(): void };

const openFsWatch: OpenWatch = (dir, onEvent) => {
  const watcher = watch(dir, { persistent: false }, (_event, file) => onEvent(file === null ? null : basename(String(file))));
  watcher.on('error', () => undefined);
  return watcher;
};

/** How long after an event that calls for a new plan it is made: one for a burst (`rm -rf` then `cp -r`). */
const REPLAN_DELAY_MS = 20;

/** Plans made in a row while the file system keeps changing under them; the next event re-plans anyway. */
const MAX_ARM_ATTEMPTS = 4;

/**
 * Calls `onChange` when one of `paths` changes, including rename-style saves
 * (`sed -i`, editors that write a temp file and rename it over the original). A
 * watch on the file itself follows its inode, which such a save replaces, and then
 * never fires again; so files are watched through their directory, filtered by
 * name. A path that is a directory (a directory of spec files) is watched itself.
 * A file that is a symbolic link is watched at each hop too (linkHops).
 *
 * A directory deleted and made again (`rm -rf apps && cp -r new-apps apps`, rsync, a
 * deploy tool), or one that did not exist yet, is watched again once it is there:
 * its inotify watch died with it, and later edits went unseen until a SIGHUP. An
 * event that changes what is to be watched (watch-plan.ts) opens the watches of a
 * new plan and closes the old ones, so their number stays that of the plan however
 * often it happens; plans are made on events only (and checked once more when their
 * watches are open), never in a loop.
 */
export function watchFiles(paths: readonly string[], onChange: () => void, open: OpenWatch = openFsWatch): FileWatch {
  let watchers: Array<{ close(): void }> = [];
  let replanTimer: NodeJS.Timeout | undefined;
  let closed = false;
  const planNow = () => watchPlan(paths, { isDirectory, hops: linkHops });
  const replan = () => {
    if (replanTimer || closed) return;
    replanTimer = setTimeout(() => {
      replanTimer = undefined;
      if (closed) return;
      arm();
      // What changed while no watch was open is read by the reload this asks for.
      onChange();
    }, REPLAN_DELAY_MS);
    replanTimer.unref();
  };
  /** Opens the watches of `plan`: an event that calls for another plan re-plans, one that names a watched entry reloads. */
  const openAll = (plan: ReturnType<typeof planNow>) => {
    const opened: Array<{ close(): void }> = [];
    for (const [dir, planned] of plan) {
      try {
        opened.push(
          open(dir, (file) => {
            const action = eventAction(dir, planned, file, isDirectory);
            if (action === 'replan') replan();
            else if (action === 'change') onChange();
          }),
        );
      } catch {
        // A directory that vanished since the plan: its removal's event re-plans, or the next reload reports it.
      }
    }
    return opened;
  };
  const arm = () => {
    for (let attempt = 0; attempt < MAX_ARM_ATTEMPTS; attempt++) {
      const plan = planNow();
      // The new watches open before the old close: a directory in both keeps its inotify watch throughout.
      const opened = openAll(plan);
      for (const w of watchers) w.close();
      watchers = opened;
      // A change between making the plan and opening its watches (the second `mv` of `mv apps old; mv new
      // apps`) reached no watch, and a plan made before it never watches the directory moved in: planned
      // again once the watches are open, anything after is theirs to see.
      if (samePlan(plan, planNow())) return;
    }
  };
  arm();
  return {
    close: () => {
      closed = true;
      clearTimeout(replanTimer);
      for (const w of watchers) w.close();
      watchers = [];
    },
  };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Links followed at most: a loop ends here (the reload then reports it). */
const MAX_HOPS = 8;

/**
 * The directory entries whose change changes what `path` reads: the path's own name,
 * and for each symbolic link on the way, the entry its target goes through in the
 * link's directory and the target's own name. A Kubernetes ConfigMap mounts
 * `berth.yaml -> ..data/berth.yaml` with `..data -> ..2026_…`, and an update renames a
 * new `..data` over the old one: `berth.yaml` itself never changes, so a watch on its
 * name alone never fired and the new config was never loaded.
 */
export function linkHops(path: string): Array<[dir: string, name: string]> {
  const hops: Array<[string, string]> = [[dirname(path), basename(path)]];
  let at = path;
  for (let i = 0; i < MAX_HOPS && isLink(at); i++) {
    let target: string;
    try {
      target = resolve(dirname(at), readlinkSync(at));
    } catch {
      break;
    }
    // A target below the link's directory: the first entry on the way there (`..data`).
    const inside = relative(dirname(at), target).split(sep);
    if (inside.length > 1 && inside[0] !== '..' && inside[0] !== '') hops.push([dirname(at), inside[0]!]);
    hops.push([dirname(target), basename(target)]);
    at = target;
  }
  return hops;
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
