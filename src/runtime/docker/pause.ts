import type { DockerContext } from './context.js';
import { mapDockerError, statusOf } from './errors.js';
import { requireManaged } from './managed.js';

/**
 * Freezes a running berth container (cgroup freezer): it keeps its memory and
 * sockets and wakes in milliseconds with `start`, which unpauses. A container
 * that is not running has nothing to freeze and is left as it is.
 */
export async function pauseContainer(ctx: DockerContext, id: string): Promise<void> {
  const info = await requireManaged(ctx, id);
  if (info.State.Status !== 'running' || info.State.Paused) return;
  try {
    await ctx.docker().getContainer(info.Id).pause();
  } catch (err) {
    // 409: it stopped or was paused meanwhile; either way there is nothing left to do.
    if (statusOf(err) === 409 || statusOf(err) === 404) return;
    throw mapDockerError(err, `pausing container ${info.Name.replace(/^\//, '')}`, ctx.endpoint.url);
  }
}
