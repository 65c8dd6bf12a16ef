import { setTimeout as delay } from 'node:timers/promises';
import { mapDockerError, statusOf } from '../docker/errors.js';
import { isManaged, otherGatewayStore, volumeName } from '../docker/names.js';
import { LABEL_APP } from '../runtime.js';
import type { SwarmContext } from './context.js';
import { requireService } from './engine.js';

/**
 * Removes the service (the Swarm removes its tasks' containers). With `purgeVolumes`
 * the app's volume is removed too when it lives on the manager berth talks to; a
 * volume on another node is left there (the Engine API of the manager cannot reach
 * it), as the README says.
 */
export async function removeService(ctx: SwarmContext, id: string, purgeVolumes: boolean): Promise<void> {
  const service = await requireService(ctx, id);
  try {
    await ctx.docker().getService(service.ID).remove();
  } catch (err) {
    if (statusOf(err) !== 404) throw mapDockerError(err, `removing service ${service.Spec.Name}`, ctx.endpoint.url);
  }
  const app = service.Spec.Labels?.[LABEL_APP];
  if (purgeVolumes && app) await removeLocalVolume(ctx, volumeName(app));
}

/** The containers go away a moment after their service: a volume still in use is tried again for a while. */
async function removeLocalVolume(ctx: SwarmContext, name: string): Promise<void> {
  const volume = ctx.docker().getVolume(name);
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      const info = (await volume.inspect()) as { Labels?: Record<string, string> };
      // Not berth's, or another gateway's (one engine, two stores): left alone.
      if (!isManaged(info.Labels) || otherGatewayStore(info.Labels, ctx.extraLabels)) return;
      await volume.remove();
      return;
    } catch (err) {
      if (statusOf(err) === 404) return;
      if (statusOf(err) !== 409) throw mapDockerError(err, `removing volume ${name}`, ctx.endpoint.url);
    }
    await delay(200);
  }
}
