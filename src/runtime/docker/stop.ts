import type { DockerContext } from './context.js';
import { mapDockerError, statusOf } from './errors.js';
import { requireManaged } from './managed.js';

/**
 * Stops a berth container, keeping it and its volume. Stopping a stopped container
 * is not an error (the engine answers 304). `timeoutS` is how long Docker waits after
 * SIGTERM before SIGKILL; with the init process the app gets the signal directly.
 */
export async function stopContainer(ctx: DockerContext, id: string, timeoutS?: number): Promise<void> {
  const info = await requireManaged(ctx, id);
  if (info.State.Status === 'created' || info.State.Status === 'exited' || info.State.Status === 'dead') return;
  try {
    await ctx.docker().getContainer(info.Id).stop(timeoutS === undefined ? {} : { t: timeoutS });
  } catch (err) {
    // 304: already stopped; 404: it went away meanwhile (auto-removed, or a concurrent remove).
    if (statusOf(err) === 304 || statusOf(err) === 404) return;
    throw mapDockerError(err, `stopping container ${info.Name.replace(/^\//, '')}`, ctx.endpoint.url);
  }
}
