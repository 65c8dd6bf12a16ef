import { isDeepStrictEqual } from 'node:util';
import { watchFiles, type FileWatch } from './watch-files.js';

/**
 * Reloads shortly after the config or a spec file changes (editors write in
 * bursts), and after each reload watches what the config names now: a spec file
 * or directory added by an edit is watched from then on, one dropped no longer.
 * `sources` gives the files of the configuration in force.
 */
export function watchConfig(sources: () => readonly string[], reload: () => Promise<unknown>, delayMs = 300): FileWatch {
  let watched = [...sources()];
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let watch: FileWatch;
  const rewatch = () => {
    const now = [...sources()];
    if (closed || isDeepStrictEqual(now, watched)) return;
    watch.close();
    watched = now;
    watch = watchFiles(watched, onChange);
  };
  const onChange = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void reload().then(rewatch, rewatch), delayMs);
  };
  watch = watchFiles(watched, onChange);
  return {
    close: () => {
      closed = true;
      clearTimeout(timer);
      watch.close();
    },
  };
}
