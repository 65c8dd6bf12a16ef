import type Docker from 'dockerode';
import { ConflictError, NotFoundError } from '../../errors.js';
import type { DockerContext } from './context.js';
import { mapDockerError, statusOf } from './errors.js';
import { isManaged } from './names.js';

/** Inspects a container by id or name; undefined when the engine has none. */
export async function inspectContainer(ctx: DockerContext, idOrName: string): Promise<Docker.ContainerInspectInfo | undefined> {
  try {
    return await ctx.docker().getContainer(idOrName).inspect();
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw mapDockerError(err, `inspecting container ${idOrName}`, ctx.endpoint.url);
  }
}

/**
 * The gate in front of every operation on an id: the container must exist and carry
 * `berth.managed=true`. berth never stops, starts or removes anything else, whatever
 * id a caller hands it.
 */
export async function requireManaged(ctx: DockerContext, idOrName: string): Promise<Docker.ContainerInspectInfo> {
  const info = await inspectContainer(ctx, idOrName);
  if (!info) throw new NotFoundError(`container ${idOrName} does not exist on the Docker host`);
  if (!isManaged(info.Config.Labels)) {
    throw new ConflictError(`container ${info.Name.replace(/^\//, '')} is not managed by berth (no berth.managed=true label); berth leaves it untouched`);
  }
  return info;
}
