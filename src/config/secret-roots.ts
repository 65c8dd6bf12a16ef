import { isUnderRoot, realPath, resolveRoot, type PathResolver } from '../spec/mount-paths.js';

/** The policy fields whose roots name host paths an app may reach: read into a container, or mounted into one. */
export type HostRootField = 'policy.secretFiles' | 'policy.bindMountRoots';

const REACH: Record<HostRootField, string> = {
  'policy.secretFiles': 'an app could read them; name a directory that holds only secrets',
  'policy.bindMountRoots': 'an app could mount them; name a directory that holds only what apps may mount',
};

/**
 * Problems of `policy.secretFiles` or `policy.bindMountRoots` roots that hold berth's own
 * data directory (the SQLite store, `admin-token`): a spec naming a file under such a
 * root could read the admin token or the whole store into a container of its own, or
 * bind-mount them (writable, even). A root inside the directory (`./secrets` beside
 * `./berth.db`) holds neither and is fine. Both the paths as written and as resolved are
 * compared, so a link on either side does not hide it. Pure but for `resolve` (the real
 * path of what exists).
 */
export function secretRootProblems(roots: readonly string[], stateDir: string, resolve: PathResolver = realPath, field: HostRootField = 'policy.secretFiles'): string[] {
  const state = [stateDir, resolveRoot(stateDir, resolve)];
  const problems: string[] = [];
  roots.forEach((root, i) => {
    const forms = [root, resolveRoot(root, resolve)];
    if (forms.some((r) => state.some((s) => isUnderRoot(s, r)))) {
      problems.push(`${field}[${i}]: "${root}" holds berth's own data directory ${stateDir} (its store, admin-token): ${REACH[field]}`);
    }
  });
  return problems;
}
