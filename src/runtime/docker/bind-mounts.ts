/**
 * The launch policy's bind-mount rule where it bites: right before a container is
 * created and every time one is started. The spec layer checked the sources at
 * apply, but a path can be swapped for a symbolic link at any time after that,
 * and the kernel follows links when Docker mounts the source at start.
 */
import type Docker from 'dockerode';
import { PolicyError, type FieldProblem } from '../../errors.js';
import { checkMountSource, type PathResolver, realPath } from '../../spec/mount-paths.js';
import type { AppSpec } from '../../spec/types.js';

/**
 * `app` with each bind-mount source replaced by its real path, so the container is
 * made from where the path leads now, not from a string. Throws PolicyError
 * naming `mounts[i].source` for a source that is missing or leads outside `roots`.
 */
export function resolveBindMounts(app: AppSpec, roots: readonly string[], resolve: PathResolver = realPath): AppSpec {
  if (app.mounts.length === 0) return app;
  const problems: FieldProblem[] = [];
  const mounts = app.mounts.map((mount, i) => {
    const checked = checkMountSource(mount.source, roots, resolve, `"${mount.source}" of app "${app.name}"`);
    if (checked.ok) return { ...mount, source: checked.resolved };
    problems.push({ path: `mounts[${i}].source`, message: checked.message });
    return mount;
  });
  if (problems.length > 0) throw new PolicyError(problems);
  return { ...app, mounts };
}

/**
 * Checks the bind mounts a created container will get when it starts. Throws
 * PolicyError naming `mounts[i].source` (i counting bind mounts, in spec order,
 * as berth created them) for a source now missing or leading outside `roots`.
 */
export function checkContainerBindMounts(name: string, mounts: readonly Docker.MountSettings[] | undefined, roots: readonly string[], resolve: PathResolver = realPath): void {
  const problems: FieldProblem[] = [];
  (mounts ?? [])
    .filter((m) => m.Type === 'bind')
    .forEach((mount, i) => {
      const checked = checkMountSource(mount.Source, roots, resolve, `"${mount.Source}" of container ${name}`);
      if (!checked.ok) problems.push({ path: `mounts[${i}].source`, message: `${checked.message}; the container is not started` });
    });
  if (problems.length > 0) throw new PolicyError(problems);
}
