import { LABEL_APP } from '../runtime.js';
import type { DockerContext } from './context.js';
import { mapDockerError, statusOf } from './errors.js';
import { requireManaged } from './managed.js';
import { purgeVolume } from './volume.js';

/**
 * Removes a berth container (forcefully: a running one is killed) with its
 * anonymous volumes: an image that declares a VOLUME gets a new one with each
 * container, unlabelled, so one left behind at each recreate or delete could
 * never be found again (`docker rm -v`; named volumes are never taken by it).
 * With `purgeVolumes` the app's named volume goes too, once no other container uses it.
 */
export async function removeContainer(ctx: DockerContext, id: string, purgeVolumes = false): Promise<void> {
  const info = await requireManaged(ctx, id);
  try {
    await ctx.docker().getContainer(info.Id).remove({ force: true, v: true });
  } catch (err) {
    // 404: already gone. 409 "removal already in progress": a concurrent remove wins, same outcome.
    const status = statusOf(err);
    if (status !== 404 && status !== 409) {
      throw mapDockerError(err, `removing container ${info.Name.replace(/^\//, '')}`, ctx.endpoint.url);
    }
  }
  const app = info.Config.Labels[LABEL_APP];
  if (purgeVolumes && app) await purgeVolume(ctx, app);
}
