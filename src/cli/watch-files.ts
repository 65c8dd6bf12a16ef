import { statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

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
 */
export function watchFiles(paths: readonly string[], onChange: () => void): FileWatch {
  const dirs = new Map<string, Set<string> | 'all'>();
  for (const given of paths) {
    const path = resolve(given);
    if (isDirectory(path)) {
      dirs.set(path, 'all');
      continue;
    }
    const names = dirs.get(dirname(path));
    if (names === 'all') continue;
    dirs.set(dirname(path), new Set([...(names ?? []), basename(path)]));
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
