import { ConflictError } from '../../errors.js';
import type { DockerContext } from './context.js';
import { volumeCreateOptions } from './container-config.js';
import { mapDockerError, statusOf } from './errors.js';
import { isManaged, otherGatewayStore, volumeName } from './names.js';

async function inspectVolume(ctx: DockerContext, name: string): Promise<{ Labels: Record<string, string> | null } | undefined> {
  try {
    return await ctx.docker().getVolume(name).inspect();
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw mapDockerError(err, `inspecting volume ${name}`, ctx.endpoint.url);
  }
}

/**
 * Creates the app's named volume, labelled as berth's, unless it exists. A volume of
 * that name without berth's label belongs to someone else: mounting it would hand
 * their data to the app, so it is a conflict.
 */
export async function ensureVolume(ctx: DockerContext, app: string): Promise<void> {
  const name = volumeName(app);
  const existing = await inspectVolume(ctx, name);
  if (existing) {
    if (!isManaged(existing.Labels)) {
      throw new ConflictError(`volume ${name} exists but was not created by berth (no berth.managed=true label); berth leaves it untouched`);
    }
    // Mounting it would hand another gateway's app data to this one's.
    requireThisGateway(ctx, name, existing.Labels);
    return;
  }
  try {
    // Creating an existing local volume is a no-op in the engine, so a concurrent ensure is harmless.
    await ctx.docker().createVolume(volumeCreateOptions(app, { extraLabels: ctx.extraLabels }));
  } catch (err) {
    throw mapDockerError(err, `creating volume ${name}`, ctx.endpoint.url);
  }
}

/**
 * Removes the app's volume once no container uses it any more. Instances of one app
 * share the volume, so purging while removing them one by one leaves it to the last.
 */
export async function purgeVolume(ctx: DockerContext, app: string): Promise<void> {
  const name = volumeName(app);
  const existing = await inspectVolume(ctx, name);
  if (!existing) return;
  if (!isManaged(existing.Labels)) {
    throw new ConflictError(`volume ${name} was not created by berth (no berth.managed=true label); berth leaves it untouched`);
  }
  requireThisGateway(ctx, name, existing.Labels);
  try {
    const users = await ctx.docker().listContainers({ all: true, filters: { volume: [name] } });
    if (users.length > 0) return;
    await ctx.docker().getVolume(name).remove();
  } catch (err) {
    if (statusOf(err) === 404) return;
    throw mapDockerError(err, `removing volume ${name}`, ctx.endpoint.url);
  }
}

function requireThisGateway(ctx: DockerContext, name: string, labels: Record<string, string> | null): void {
  const owner = otherGatewayStore(labels, ctx.extraLabels);
  if (owner) {
    throw new ConflictError(`volume ${name} belongs to another berth gateway (store ${owner}); berth leaves it untouched: rename the app, or remove the volume from that gateway`);
  }
}
