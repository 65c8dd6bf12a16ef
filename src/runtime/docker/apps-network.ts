import type Docker from 'dockerode';
import { ConflictError } from '../../errors.js';
import { LABEL_MANAGED } from '../runtime.js';
import type { DockerContext } from './context.js';
import { mapDockerError, statusOf } from './errors.js';
import { isManaged } from './names.js';

/** The user-defined bridge every app joins, aliased by its app's name, so apps reach each other as compose services do. */
export const DEFAULT_APPS_NETWORK = 'berth-apps';

/**
 * `appsNetwork: none`: apps join no network of berth's. Name resolution on a
 * user-defined network costs every container start ~0.2 s on this engine (its
 * embedded DNS is set up in the container's namespace), so gateways whose apps
 * never call each other by name may turn it off.
 */
export const NO_APPS_NETWORK = 'none';

/** The network apps join for a config's `appsNetwork`; undefined: none. Pure. */
export function appsNetworkOf(setting: string | undefined): string | undefined {
  if (setting === NO_APPS_NETWORK) return undefined;
  return setting ?? DEFAULT_APPS_NETWORK;
}

/** Ensures in flight, by engine and network name: one create at a time per process. */
const ensuring = new Map<string, Promise<void>>();

/**
 * Makes sure berth's apps network exists, creating it labelled as berth's (and with the
 * runtime's extra labels). A network of that name without the label is someone else's:
 * berth refuses to join it rather than put its apps on a network it does not own.
 *
 * Single flight: the engine does not refuse a second network of the same name
 * (CheckDuplicate is best effort), and two of them make every later join fail as
 * "ambiguous", so concurrent starts in this process share one ensure.
 */
export function ensureAppsNetwork(ctx: DockerContext, name: string): Promise<void> {
  const key = `${ctx.endpoint.url} ${name}`;
  let pending = ensuring.get(key);
  if (!pending) {
    pending = ensureOnce(ctx, name).finally(() => ensuring.delete(key));
    ensuring.set(key, pending);
  }
  return pending;
}

async function ensureOnce(ctx: DockerContext, name: string): Promise<void> {
  const docker = ctx.docker();
  try {
    const info = (await docker.getNetwork(name).inspect()) as { Labels?: Record<string, string> | null };
    if (!isManaged(info.Labels)) throw new ConflictError(foreign(name));
    return;
  } catch (err) {
    if (err instanceof ConflictError) throw err;
    if (statusOf(err) !== 404) throw mapDockerError(err, `inspecting network ${name}`, ctx.endpoint.url);
  }
  try {
    await docker.createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: { ...ctx.extraLabels, [LABEL_MANAGED]: 'true' } });
  } catch (err) {
    // 409: another gateway or ensure created it meanwhile; it is berth's too (checked on the next create).
    if (statusOf(err) !== 409) throw mapDockerError(err, `creating network ${name}`, ctx.endpoint.url);
  }
}

function foreign(name: string): string {
  return `a network named ${name} exists but was not created by berth (no ${LABEL_MANAGED}=true label); berth will not put apps on it: remove or rename it, or set appsNetwork`;
}

/**
 * Puts an existing, stopped container on the apps network under its app's name
 * (replicas share the alias: DNS answers with each). Unlike a join at create, a
 * failure leaves the container in place: it is the app's, with its state.
 */
export async function rejoinAppsNetwork(ctx: DockerContext, container: Docker.Container, containerName: string, app: string, network: string): Promise<void> {
  await ensureAppsNetwork(ctx, network);
  try {
    await ctx.docker().getNetwork(network).connect({ Container: container.id, EndpointConfig: { Aliases: [app] } });
  } catch (err) {
    throw mapDockerError(err, `joining container ${containerName} to network ${network}`, ctx.endpoint.url);
  }
}

/** A container made by a berth without the apps network (or taken off it) is on it again before it starts. Pure. */
export function needsAppsNetwork(info: Docker.ContainerInspectInfo, network: string): boolean {
  if (info.HostConfig?.NetworkMode === 'host') return false;
  return !Object.keys(info.NetworkSettings?.Networks ?? {}).includes(network);
}
