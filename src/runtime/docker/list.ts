import { LABEL_APP } from '../runtime.js';
import type { Instance } from '../runtime.js';
import type { DockerContext } from './context.js';
import { mapDockerError } from './errors.js';
import { inspectInstance } from './inspect.js';
import { createdInstance } from './instance.js';
import { MANAGED_FILTER } from './names.js';

/**
 * berth's containers (of one app, or of some apps, when asked), running or not,
 * ordered by app and index. The engine filters by label; each is then inspected
 * so list() returns exactly what inspect() would (start time, health, published
 * address), except a container that never started: its summary says all there
 * is (no start time, exit code, health or address), so the many containers
 * created ahead cost no inspect each.
 */
export async function listInstances(ctx: DockerContext, filter: { app?: string; apps?: readonly string[] } = {}): Promise<Instance[]> {
  const labels = [MANAGED_FILTER];
  if (filter.app) labels.push(`${LABEL_APP}=${filter.app}`);
  let summaries;
  try {
    summaries = await ctx.docker().listContainers({ all: true, filters: { label: labels } });
  } catch (err) {
    throw mapDockerError(err, 'listing containers', ctx.endpoint.url);
  }
  if (filter.apps) {
    const wanted = new Set(filter.apps);
    summaries = summaries.filter((s) => wanted.has(s.Labels?.[LABEL_APP] ?? ''));
  }
  // A container removed between list and inspect is simply no longer there.
  const found = await Promise.all(summaries.map((s) => (s.State === 'created' ? createdInstance(s) : inspectInstance(ctx, s.Id))));
  return found
    .filter((i): i is Instance => i !== undefined)
    .sort((a, b) => a.app.localeCompare(b.app) || a.index - b.index);
}
