import { setTimeout as delay } from 'node:timers/promises';
import type Docker from 'dockerode';
import { ConflictError, NotFoundError, RuntimeError } from '../../errors.js';
import type { AppSpec, InputSpec } from '../../spec/types.js';
import { containerSpecHash } from '../../spec/hash.js';
import { LABEL_SPEC_HASH } from '../runtime.js';
import type { Instance } from '../runtime.js';
import { resolveSecretRefs } from '../secret-env.js';
import { resolveBindMounts } from './bind-mounts.js';
import { containerCreateOptions } from './container-config.js';
import { engineFacts } from './engine-info.js';
import type { DockerContext } from './context.js';
import { engineMessage, mapDockerError, statusOf } from './errors.js';
import { ensureAppsNetwork } from './apps-network.js';
import { joinNetwork, requireNetwork } from './network.js';
import { ensureImage } from './image.js';
import { engineLogConfig } from './log-config.js';
import { toInstance } from './instance.js';
import { putInputFile } from './input.js';
import { inspectContainer } from './managed.js';
import { containerName, isManaged, otherGatewayStore } from './names.js';
import { removeContainer } from './remove.js';
import { stopContainer } from './stop.js';
import { ensureVolume } from './volume.js';
import { specAllowance } from '../launch-allowance.js';
import { powersBeyond } from './launch-powers.js';

/** How often ensure looks again after losing a create race; see ensureContainer. */
const CREATE_ATTEMPTS = 5;

/**
 * Brings the container of instance `index` of `app` to the spec: adopts it when its
 * spec hash matches, recreates it when not (the volume is kept), creates it when
 * missing. Never starts it. A same-named container without berth's label is refused.
 */
export async function ensureContainer(ctx: DockerContext, given: AppSpec, index: number): Promise<Instance> {
  // Made from where the bind-mount sources lead now (checked against the policy again), not from the strings.
  const roots = ctx.bindMountRoots?.();
  const app = roots ? resolveBindMounts(given, roots) : given;
  const name = containerName(app.name, index);
  // The label keeps the hash of the spec as written: the activator compares it with that, and
  // start() checks an adopted container's resolved sources again anyway.
  const hash = containerSpecHash(given);
  // Built once, on first need: secret references are read only when a container is made,
  // and before an outdated one is retired, so a missing secret leaves the old one in place.
  let wanted: Promise<Docker.ContainerCreateOptions> | undefined;
  const want = () => (wanted ??= wantedContainer(ctx, app, index, hash));
  // Two ensures may race (reconciler and activator): the loser's create fails with a
  // name conflict, and another look adopts the winner's container instead of failing.
  // The engine reserves the name before the winner's container can be inspected, so
  // the loser may need a few short waits to see it.
  for (let attempt = 1; ; attempt++) {
    const existing = await inspectContainer(ctx, name);
    if (existing?.State.Status === 'removing') {
      // A `docker rm -f` outside berth is under way: the name is free once it is done, and a new container is made.
      await untilRemoved(ctx, existing.Id, name);
      continue;
    }
    if (existing) {
      if (!isManaged(existing.Config.Labels)) {
        throw new ConflictError(
          `a container named ${name} exists but was not created by berth (no berth.managed=true label); ` +
            `berth leaves it untouched: remove or rename it, or rename the app`,
        );
      }
      const owner = otherGatewayStore(existing.Config.Labels, ctx.extraLabels);
      if (owner) {
        throw new ConflictError(
          `a container named ${name} belongs to another berth gateway (store ${owner}); berth leaves it untouched: ` +
            'stop that gateway and remove its containers, or rename the app',
        );
      }
      // Its labels are only strings: one with powers its spec does not give (made or changed outside berth) is made anew.
      if (existing.Config.Labels[LABEL_SPEC_HASH] === hash && powersBeyond(existing.HostConfig, specAllowance(app)).length === 0) {
        return toInstance(existing, ctx.addresses.dialHost);
      }
      await want();
      await retire(ctx, existing.Id);
    }
    try {
      return await createContainer(ctx, app, await want());
    } catch (err) {
      if (!(err instanceof NameTaken) || attempt >= CREATE_ATTEMPTS) throw err;
      await delay(25 * attempt);
    }
  }
}

/** How long a removal someone else began may take before ensure gives up on the name. */
const REMOVAL_WAIT_MS = 10_000;

async function untilRemoved(ctx: DockerContext, id: string, name: string): Promise<void> {
  const deadline = performance.now() + REMOVAL_WAIT_MS;
  while ((await inspectContainer(ctx, id)) !== undefined) {
    if (performance.now() > deadline) throw new ConflictError(`container ${name} is being removed outside berth and is still there after ${REMOVAL_WAIT_MS / 1000} s`);
    await delay(50);
  }
}

/**
 * The create options, with the spec's secret references read now: at every create,
 * never earlier, so their values are held nowhere but in the container.
 */
async function wantedContainer(ctx: DockerContext, app: AppSpec, index: number, hash: string): Promise<Docker.ContainerCreateOptions> {
  const secretValues = await resolveSecretRefs(app.name, app.env, { policy: ctx.secretPolicy?.() ?? {}, env: ctx.processEnv ?? process.env });
  const wanted = containerCreateOptions(app, index, {
    extraLabels: ctx.extraLabels,
    defaultResources: ctx.defaultResources?.(),
    inputUrl: app.input?.as === 'url' ? ctx.inputUrl?.(app.name, app.input.json) : undefined,
    secretValues,
    publishHost: ctx.addresses.publishHost,
    logConfig: await engineLogConfig(ctx),
    hostCpus: (await engineFacts(ctx)).NCPU,
  });
  wanted.Labels = { ...wanted.Labels, [LABEL_SPEC_HASH]: hash };
  return wanted;
}

/** The engine refused create because the name is taken: another ensure won the race. */
class NameTaken extends ConflictError {}

/** Stops and removes an outdated container; one that vanished meanwhile (a concurrent ensure) is fine. */
async function retire(ctx: DockerContext, id: string): Promise<void> {
  try {
    await stopContainer(ctx, id);
    await removeContainer(ctx, id);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
}

async function createContainer(ctx: DockerContext, app: AppSpec, wanted: Docker.ContainerCreateOptions): Promise<Instance> {
  const docker = ctx.docker();
  const name = wanted.name ?? '';
  await ensureImage(ctx, app.image);
  if (app.network) await requireNetwork(ctx, app.network);
  const appsNetwork = app.security.hostNetwork ? undefined : ctx.appsNetwork;
  if (appsNetwork) await ensureAppsNetwork(ctx, appsNetwork);
  if (app.volume) await ensureVolume(ctx, app.name);
  let container: Docker.Container;
  try {
    container = await docker.createContainer(wanted);
  } catch (err) {
    if (statusOf(err) === 409) throw new NameTaken(`creating container ${name}: ${engineMessage(err)}`);
    const mapped = mapDockerError(err, `creating container ${name}`, ctx.endpoint.url);
    // A 404 here is not "no such app" for the caller: the image vanished since ensureImage.
    throw mapped instanceof NotFoundError ? new RuntimeError(mapped.message, { cause: err }) : mapped;
  }
  if (app.input?.as === 'file') await putInput(ctx, container, name, app.input);
  if (app.network) await joinNetwork(ctx, container, name, app.network);
  // Aliased by the app's name, so `db` in another app's dependsOn is also its host name.
  if (appsNetwork) await joinNetwork(ctx, container, name, appsNetwork, [app.name]);
  return toInstance(await container.inspect(), ctx.addresses.dialHost);
}

/**
 * Right after create, before the first start: an adopted container already has
 * its file. On failure the half-made container is removed, or a later ensure
 * would adopt it (its spec hash matches) without the file.
 */
async function putInput(ctx: DockerContext, container: Docker.Container, name: string, input: InputSpec): Promise<void> {
  try {
    await putInputFile(ctx, container, name, input);
  } catch (err) {
    await container.remove({ force: true, v: true }).catch(() => undefined);
    throw err;
  }
}
