import { LABEL_APP } from '../runtime.js';
import type { Instance } from '../runtime.js';
import type { DockerContext } from './context.js';
import { mapDockerError } from './errors.js';
import { inspectInstance } from './inspect.js';
import { MANAGED_FILTER } from './names.js';

/**
 * berth's containers (of one app when asked), running or not, ordered by app and
 * index. The engine filters by label; each is then inspected so list() returns
 * exactly what inspect() would (start time, health, published address).
 */
export async function listInstances(ctx: DockerContext, filter: { app?: string } = {}): Promise<Instance[]> {
  const labels = [MANAGED_FILTER];
  if (filter.app) labels.push(`${LABEL_APP}=${filter.app}`);
  let summaries;
  try {
    summaries = await ctx.docker().listContainers({ all: true, filters: { label: labels } });
  } catch (err) {
    throw mapDockerError(err, 'listing containers', ctx.endpoint.url);
  }
  // A container removed between list and inspect is simply no longer there.
  const found = await Promise.all(summaries.map((s) => inspectInstance(ctx, s.Id)));
  return found
    .filter((i): i is Instance => i !== undefined)
    .sort((a, b) => a.app.localeCompare(b.app) || a.index - b.index);
}
