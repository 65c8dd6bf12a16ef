import { ConflictError, NotFoundError } from '../../errors.js';
import { mapDockerError, statusOf } from '../docker/errors.js';
import { MANAGED_FILTER, isManaged } from '../docker/names.js';
import { LABEL_APP } from '../runtime.js';
import type { SwarmContext } from './context.js';
import type { SwarmNode, SwarmService, SwarmTask } from './wire.js';

/** The thin I/O shell over the manager's /services, /tasks and /nodes endpoints. */

export async function findService(ctx: SwarmContext, idOrName: string): Promise<SwarmService | undefined> {
  try {
    return (await ctx.docker().getService(idOrName).inspect()) as SwarmService;
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw mapDockerError(err, `inspecting service ${idOrName}`, ctx.endpoint.url);
  }
}

/** The gate in front of every operation on an id: the service must exist and be berth's. */
export async function requireService(ctx: SwarmContext, id: string): Promise<SwarmService> {
  const service = await findService(ctx, id);
  if (!service) throw new NotFoundError(`service ${id} does not exist on the swarm`);
  if (!isManaged(service.Spec.Labels)) throw new ConflictError(`service ${service.Spec.Name} is not managed by berth (no berth.managed=true label); berth leaves it untouched`);
  return service;
}

export async function listServices(ctx: SwarmContext, app?: string): Promise<SwarmService[]> {
  const label = app === undefined ? [MANAGED_FILTER] : [MANAGED_FILTER, `${LABEL_APP}=${app}`];
  try {
    const found = (await ctx.docker().listServices({ filters: { label } })) as unknown as SwarmService[];
    // The engine filtered already; checked again because nothing else may ever be touched.
    return found.filter((s) => isManaged(s.Spec.Labels));
  } catch (err) {
    throw mapDockerError(err, 'listing services', ctx.endpoint.url);
  }
}

/** Tasks the swarm wants running (of one service when given): the current ones, not the history. */
export async function listTasks(ctx: SwarmContext, serviceId?: string, desired: 'running' | 'any' = 'running'): Promise<SwarmTask[]> {
  const filters: Record<string, string[]> = {};
  if (desired === 'running') filters['desired-state'] = ['running'];
  if (serviceId) filters['service'] = [serviceId];
  try {
    return (await ctx.docker().listTasks({ filters })) as SwarmTask[];
  } catch (err) {
    throw mapDockerError(err, 'listing tasks', ctx.endpoint.url);
  }
}

/** One task by id, ended ones too; undefined when the Swarm no longer keeps it. */
export async function findTask(ctx: SwarmContext, id: string): Promise<SwarmTask | undefined> {
  try {
    return (await ctx.docker().getTask(id).inspect()) as SwarmTask;
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw mapDockerError(err, `inspecting task ${id}`, ctx.endpoint.url);
  }
}

export async function listNodes(ctx: SwarmContext): Promise<SwarmNode[]> {
  try {
    return (await ctx.docker().listNodes()) as SwarmNode[];
  } catch (err) {
    throw mapDockerError(err, 'listing swarm nodes', ctx.endpoint.url);
  }
}

/** Writes a new spec at the version read; the caller re-reads and retries on a conflict (another writer won). */
export async function updateService(ctx: SwarmContext, service: SwarmService, spec: SwarmService['Spec']): Promise<void> {
  try {
    await ctx.docker().getService(service.ID).update({ ...spec, version: service.Version.Index } as never);
  } catch (err) {
    throw mapDockerError(err, `updating service ${service.Spec.Name}`, ctx.endpoint.url);
  }
}

/**
 * Sets the replicas of a berth service, re-reading it when another writer changed it
 * meanwhile. `check` sees the service as read, and may throw to leave it as it is;
 * `relabel` may give its spec with other service labels, written with the replicas.
 */
export async function scaleService(
  ctx: SwarmContext,
  id: string,
  replicas: number,
  check?: (service: SwarmService) => void,
  relabel?: (spec: SwarmService['Spec']) => SwarmService['Spec'] | undefined,
): Promise<SwarmService> {
  for (let attempt = 1; ; attempt++) {
    const service = await requireService(ctx, id);
    check?.(service);
    const relabelled = relabel?.(service.Spec);
    if (service.Spec.Mode?.Replicated?.Replicas === replicas && !relabelled) return service;
    try {
      await updateService(ctx, service, { ...(relabelled ?? service.Spec), Mode: { Replicated: { Replicas: replicas } } });
      return (await findService(ctx, id)) ?? service;
    } catch (err) {
      // "update out of sequence": the version moved under us; read again.
      if (attempt >= 5 || !/out of sequence/i.test((err as Error).message)) throw err;
    }
  }
}
