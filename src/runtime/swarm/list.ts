import type { Instance } from '../runtime.js';
import type { SwarmContext } from './context.js';
import { findService, listServices, listTasks } from './engine.js';
import type { NodeBook } from './nodes.js';
import { isManaged } from '../docker/names.js';
import { toInstance } from './service-instance.js';

/** berth's services as instances (of one app when given): three calls whatever their number. */
export async function listInstances(ctx: SwarmContext, nodes: NodeBook, filter: { app?: string } = {}): Promise<Instance[]> {
  const [services, tasks] = await Promise.all([listServices(ctx, filter.app), listTasks(ctx), nodes.refresh()]);
  return services.map((s) => toInstance(s, tasks, (n) => nodes.known(n), (n) => nodes.nameOf(n)));
}

/** One berth service as an instance; undefined when absent or not berth's. */
export async function inspectInstance(ctx: SwarmContext, nodes: NodeBook, id: string): Promise<Instance | undefined> {
  const service = await findService(ctx, id);
  if (!service || !isManaged(service.Spec.Labels)) return undefined;
  // Every task of the service, the ended ones too: one that just crashed makes the instance read exited.
  const tasks = await listTasks(ctx, service.ID, 'any');
  for (const t of tasks) if (t.NodeID) await nodes.addressOf(t.NodeID);
  return toInstance(service, tasks, (n) => nodes.known(n), (n) => nodes.nameOf(n));
}
