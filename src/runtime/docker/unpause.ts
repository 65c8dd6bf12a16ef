import type { DockerContext } from './context.js';
import { mapDockerError } from './errors.js';

/**
 * Thaws a container berth paused (Runtime.unpause): the one Engine API call,
 * with no inspect around it, because the caller already knows the container
 * and where it listens. The engine answers 404 for a container that is gone
 * and 409 for one that is not paused; mapDockerError makes them NotFoundError
 * and ConflictError, which tell the caller to take the full start path.
 */
export async function unpauseContainer(ctx: DockerContext, id: string): Promise<void> {
  try {
    await ctx.docker().getContainer(id).unpause();
  } catch (err) {
    throw mapDockerError(err, `unpausing container ${id.slice(0, 12)}`, ctx.endpoint.url);
  }
}
