import { isUnderRoot, realPath, resolveRoot, type PathResolver } from '../spec/mount-paths.js';

/**
 * Problems of `policy.secretFiles` roots that hold berth's own data directory (the
 * SQLite store, `admin-token`): a spec naming a file under such a root could read the
 * admin token or the whole store into a container of its own. A root inside the
 * directory (`./secrets` beside `./berth.db`) holds neither and is fine. Both the paths
 * as written and as resolved are compared, so a link on either side does not hide
 * it. Pure but for `resolve` (the real path of what exists).
 */
export function secretRootProblems(roots: readonly string[], stateDir: string, resolve: PathResolver = realPath): string[] {
  const state = [stateDir, resolveRoot(stateDir, resolve)];
  const problems: string[] = [];
  roots.forEach((root, i) => {
    const forms = [root, resolveRoot(root, resolve)];
    if (forms.some((r) => state.some((s) => isUnderRoot(s, r)))) {
      problems.push(`policy.secretFiles[${i}]: "${root}" holds berth's own data directory ${stateDir} (its store, admin-token): an app could read them; name a directory that holds only secrets`);
    }
  });
  return problems;
}
