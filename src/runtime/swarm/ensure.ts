import { setTimeout as delay } from 'node:timers/promises';
import { ConflictError, RuntimeError } from '../../errors.js';
import { containerSpecHash } from '../../spec/hash.js';
import type { AppSpec } from '../../spec/types.js';
import { resolveBindMounts } from '../docker/bind-mounts.js';
import { engineMessage, mapDockerError, statusOf } from '../docker/errors.js';
import { ensureImage, imageHasHealthcheck } from '../docker/image.js';
import { engineLogConfig } from '../docker/log-config.js';
import { containerName, isManaged, otherGatewayStore } from '../docker/names.js';
import { LABEL_SPEC_HASH } from '../runtime.js';
import type { Instance } from '../runtime.js';
import { resolveSecretRefs } from '../secret-env.js';
import type { SwarmContext } from './context.js';
import { findService, listServices, listTasks, updateService } from './engine.js';
import type { NodeBook } from './nodes.js';
import { requireSwarmNetwork } from './network.js';
import { LABEL_NODE, drifted, replicasOf, serviceSpec, swarmRefusal, taskCpuCeiling } from './service-spec.js';
import { toInstance } from './service-instance.js';
import type { SwarmService } from './wire.js';

const CREATE_ATTEMPTS = 5;

/**
 * Brings the service of instance `index` of `app` to the spec: adopts it when its spec
 * hash matches and its template is still the one berth wrote; otherwise (a new spec,
 * or a `docker service update` behind berth's back) updates it in place, which the
 * Swarm carries out as a rolling update (start-first, rolled back when the new task
 * fails) and which keeps its replicas; creates it, with 0 replicas, when missing. A same-named service without
 * berth's label, or another gateway's, is refused and left untouched.
 */
export async function ensureService(ctx: SwarmContext, nodes: NodeBook, given: AppSpec, index: number): Promise<Instance> {
  const refusal = swarmRefusal(given);
  if (refusal) throw new RuntimeError(refusal);
  const roots = ctx.bindMountRoots?.();
  const app = roots ? resolveBindMounts(given, roots) : given;
  const name = containerName(app.name, index);
  const hash = containerSpecHash(given);
  for (let attempt = 1; ; attempt++) {
    const existing = await findService(ctx, name);
    if (existing) {
      checkOwner(ctx, existing, name);
      if (existing.Spec.Labels?.[LABEL_SPEC_HASH] === hash && !drifted(existing.Spec)) return instanceOf(ctx, nodes, existing);
    }
    const spec = await wantedSpec(ctx, nodes, app, index, hash, existing ? replicasOf(existing.Spec) : 0);
    if (existing) {
      await updateService(ctx, existing, spec);
      return instanceOf(ctx, nodes, (await findService(ctx, name)) ?? existing);
    }
    try {
      await ctx.docker().createService(spec as never);
      const created = await findService(ctx, name);
      if (created) return instanceOf(ctx, nodes, created);
    } catch (err) {
      // Two ensures may race (reconciler and activator): the loser adopts the winner's service.
      if (statusOf(err) !== 409 || attempt >= CREATE_ATTEMPTS) throw mapDockerError(err, `creating service ${name}`, ctx.endpoint.url);
    }
    await delay(25 * attempt);
  }
}

function checkOwner(ctx: SwarmContext, existing: SwarmService, name: string): void {
  const labels = existing.Spec.Labels ?? {};
  if (!isManaged(labels)) {
    throw new ConflictError(`a service named ${name} exists but was not created by berth (no berth.managed=true label); berth leaves it untouched: remove or rename it, or rename the app`);
  }
  const owner = otherGatewayStore(labels, ctx.extraLabels);
  if (owner) {
    throw new ConflictError(`a service named ${name} belongs to another berth gateway (store ${owner}); berth leaves it untouched`);
  }
}

/** The service spec, with secret references read now (at every create or update, never earlier). */
async function wantedSpec(ctx: SwarmContext, nodes: NodeBook, app: AppSpec, index: number, hash: string, replicas: number): Promise<SwarmService['Spec']> {
  // The manager's copy is checked; a node without the image fails its task, which a wake reports.
  await ensureImage(ctx, app.image);
  if (app.network) await requireSwarmNetwork(ctx, app.network);
  const secretValues = await resolveSecretRefs(app.name, app.env, { policy: ctx.secretPolicy?.() ?? {}, env: ctx.processEnv ?? process.env });
  // The nodes as they are now: where a volume may be pinned, and the CPUs a task's limit may ask for.
  await nodes.refresh();
  const pinnedNode = app.volume ? await volumeNode(ctx, nodes, app.name) : undefined;
  const spec = serviceSpec(app, index, {
    extraLabels: ctx.extraLabels,
    defaultResources: ctx.defaultResources?.(),
    inputUrl: app.input?.as === 'url' ? ctx.inputUrl?.(app.name, app.input.json) : undefined,
    secretValues,
    replicas,
    logConfig: await engineLogConfig(ctx),
    hostCpus: taskCpuCeiling(nodes.all(), pinnedNode),
    // From the manager's copy, as the image check above: the nodes run the same image (best pinned by digest).
    imageHealthcheck: await imageHasHealthcheck(ctx, app.image),
    ...(pinnedNode ? { pinnedNode } : {}),
  }) as SwarmService['Spec'];
  spec.Labels = { ...spec.Labels, [LABEL_SPEC_HASH]: hash };
  return spec;
}

/**
 * The node whose local volume holds the app's data: where its services are pinned
 * already, else the configured swarm.volumeNode (in `nodes`, just listed), else the manager berth talks to.
 */
async function volumeNode(ctx: SwarmContext, nodes: NodeBook, app: string): Promise<string> {
  const pinned = (await listServices(ctx, app)).map((s) => s.Spec.Labels?.[LABEL_NODE]).find((n) => n);
  if (pinned) return pinned;
  if (ctx.swarm.volumeNode) {
    const node = nodes.find(ctx.swarm.volumeNode);
    if (!node) throw new RuntimeError(`swarm.volumeNode: no node named ${ctx.swarm.volumeNode} in the swarm`);
    return node.ID;
  }
  try {
    const info = (await ctx.docker().info()) as { Swarm?: { NodeID?: string } };
    if (info.Swarm?.NodeID) return info.Swarm.NodeID;
  } catch (err) {
    throw new RuntimeError(`reading the manager's node id: ${engineMessage(err)}`, { cause: err });
  }
  throw new RuntimeError(`the engine at ${ctx.endpoint.url} is not part of a swarm`);
}

export async function instanceOf(ctx: SwarmContext, nodes: NodeBook, service: SwarmService): Promise<Instance> {
  const tasks = replicasOf(service.Spec) > 0 ? await listTasks(ctx, service.ID) : [];
  for (const t of tasks) if (t.NodeID) await nodes.addressOf(t.NodeID);
  return toInstance(service, tasks, (id) => nodes.known(id), (id) => nodes.nameOf(id));
}
