import { lstatSync, readlinkSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, relative, resolve, sep } from 'node:path';

export interface FileWatch {
  close(): void;
}

/**
 * Calls `onChange` when one of `paths` changes, including rename-style saves
 * (`sed -i`, editors that write a temp file and rename it over the original). A
 * watch on the file itself follows its inode, which such a save replaces, and then
 * never fires again; so files are watched through their directory, filtered by
 * name. A path that is a directory (a directory of spec files) is watched itself.
 * Paths that cannot be watched (vanished) are skipped: the next reload reports them.
 * A file that is a symbolic link is watched at each hop too (linkHops).
 */
export function watchFiles(paths: readonly string[], onChange: () => void): FileWatch {
  const dirs = new Map<string, Set<string> | 'all'>();
  for (const given of paths) {
    const path = resolve(given);
    if (isDirectory(path)) {
      dirs.set(path, 'all');
      continue;
    }
    for (const [dir, name] of linkHops(path)) {
      const names = dirs.get(dir);
      if (names === 'all') continue;
      dirs.set(dir, new Set([...(names ?? []), name]));
    }
  }
  const watchers: FSWatcher[] = [];
  for (const [dir, names] of dirs) {
    try {
      const watcher = watch(dir, { persistent: false }, (_event, file) => {
        // Some platforms give no name; then any change in the directory counts.
        if (names === 'all' || file === null || names.has(basename(String(file)))) onChange();
      });
      watcher.on('error', () => undefined);
      watchers.push(watcher);
    } catch {
      // A directory that vanished is reported by the next reload, not here.
    }
  }
  return { close: () => watchers.forEach((w) => w.close()) };
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
