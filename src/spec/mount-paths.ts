/**
 * Bind-mount sources against the policy's bindMountRoots, by where they really
 * lead. Comparing path strings is not enough: an allowed root (or a directory in
 * it) that is a symbolic link to `/` would mount the host's /etc. So sources are
 * resolved with realpath at apply and again before every create and start, and
 * the container is made from the resolved path. The roots are resolved once, when
 * the config is loaded: resolving them again at start would follow a root that
 * was swapped for a link, and allow everything the link points at.
 *
 * The paths are looked up on the gateway's own filesystem, which is the engine's
 * when the engine is local (the only setup where bind mounts make sense).
 */
import { realpathSync } from 'node:fs';
import { posix } from 'node:path';

/** Where `path` really leads, or undefined when it does not exist (or cannot be read). */
export type PathResolver = (path: string) => string | undefined;

export const realPath: PathResolver = (path) => {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
};

/** Whether `path` is `root` or lies under it; both already absolute and resolved. */
export function isUnderRoot(path: string, root: string): boolean {
  const relative = posix.relative(posix.resolve(root), posix.resolve(path));
  return relative === '' || (!relative.startsWith('..') && !posix.isAbsolute(relative));
}

/** A configured root, resolved: its real path when it exists, else the path as written (nothing can be under it yet). */
export function resolveRoot(root: string, resolve: PathResolver = realPath): string {
  return resolve(root) ?? posix.resolve(root);
}

export type MountCheck = { ok: true; resolved: string } | { ok: false; message: string };

/**
 * Checks one source against resolved roots; `ok` gives the path to mount.
 * `subject` names the source in messages (e.g. `"/srv/x" of app "a"`).
 */
export function checkMountSource(source: string, roots: readonly string[], resolve: PathResolver = realPath, subject = `"${source}"`): MountCheck {
  const allowed = roots.length > 0 ? roots.join(', ') : 'none allowed';
  const resolved = resolve(source);
  if (resolved === undefined) {
    // Outside every root, existence is not the caller's business.
    const inside = roots.some((root) => isUnderRoot(source, root));
    return { ok: false, message: inside ? `${subject} does not exist on the gateway's host` : `${subject} is not under policy.bindMountRoots (${allowed})` };
  }
  if (!roots.some((root) => isUnderRoot(resolved, root))) {
    const via = resolved === posix.resolve(source) ? '' : ` (it resolves to "${resolved}")`;
    return { ok: false, message: `${subject} is not under policy.bindMountRoots (${allowed})${via}` };
  }
  return { ok: true, resolved };
}
