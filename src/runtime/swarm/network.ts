import { RuntimeError } from '../../errors.js';
import { mapDockerError, statusOf } from '../docker/errors.js';
import { requireNamed } from '../docker/network.js';
import type { SwarmContext } from './context.js';

/**
 * The spec's network (allowed by the gateway's policy at apply) must be a swarm-scoped
 * network, an overlay, or the service cannot be created on it.
 */
export async function requireSwarmNetwork(ctx: SwarmContext, network: string): Promise<void> {
  const missing = `network ${network} does not exist on the swarm; create it (docker network create -d overlay ${network}) or remove it from the spec`;
  let info: { Scope?: string; Driver?: string; Name?: string; Id?: string };
  try {
    info = (await ctx.docker().getNetwork(network).inspect()) as typeof info;
  } catch (err) {
    if (statusOf(err) === 404) throw new RuntimeError(missing);
    throw mapDockerError(err, `inspecting network ${network}`, ctx.endpoint.url);
  }
  requireNamed(info, network, missing);
  if (info.Scope !== 'swarm') throw new RuntimeError(`network ${network} is a ${info.Driver ?? 'local'} network of one host; services need a swarm-scoped (overlay) network`);
}
