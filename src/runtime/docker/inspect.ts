import type { Instance } from '../runtime.js';
import type { DockerContext } from './context.js';
import { toInstance } from './instance.js';
import { inspectContainer } from './managed.js';
import { isManaged } from './names.js';

/**
 * One berth container by id or name; undefined when absent or not berth's (a foreign one is invisible).
 * With the powers over the host its HostConfig gives (Instance.hostPowers): list and inspect are how
 * the activator finds the containers it adopts, and labels are only strings.
 */
export async function inspectInstance(ctx: DockerContext, id: string): Promise<Instance | undefined> {
  const info = await inspectContainer(ctx, id);
  return info && isManaged(info.Config.Labels) ? toInstance(info, ctx.addresses.dialHost) : undefined;
}
