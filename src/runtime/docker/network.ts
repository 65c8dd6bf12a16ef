import type Docker from 'dockerode';
import { RuntimeError } from '../../errors.js';
import type { DockerContext } from './context.js';
import { engineMessage, mapDockerError, statusOf } from './errors.js';

/**
 * Checked before create because the engine lets a created container join a network
 * that does not exist and only fails at start, far from the cause.
 */
export async function requireNetwork(ctx: DockerContext, network: string): Promise<void> {
  let found: { Name?: string; Id?: string };
  try {
    found = (await ctx.docker().getNetwork(network).inspect()) as { Name?: string; Id?: string };
  } catch (err) {
    if (statusOf(err) === 404) throw new RuntimeError(missingNetwork(network));
    throw mapDockerError(err, `inspecting network ${network}`, ctx.endpoint.url);
  }
  requireNamed(found, network, missingNetwork(network));
}

/**
 * The engine finds a network by name, by ID, or by the first digits of an ID: a name the policy allows that
 * names no network (`cafe`, `dead`) would join whichever network's ID begins with it. `missing` says what to do.
 */
export function requireNamed(found: { Name?: string; Id?: string }, network: string, missing: string): void {
  if (found.Name !== network && found.Id !== network) {
    throw new RuntimeError(`${missing} (the engine took "${network}" for the start of the ID of network ${found.Name ?? '?'}, which the spec did not name)`);
  }
}

function missingNetwork(network: string): string {
  return `network ${network} does not exist on the Docker host; create it (docker network create ${network}) or remove it from the spec`;
}

/**
 * Joins the spec's network after create (API 1.41 takes one network at create time),
 * so the container stays on the default bridge too. On failure the half-made
 * container is removed: a later ensure would otherwise adopt it without the network.
 */
export async function joinNetwork(ctx: DockerContext, container: Docker.Container, name: string, network: string, aliases?: string[]): Promise<void> {
  try {
    await ctx.docker().getNetwork(network).connect({ Container: container.id, ...(aliases ? { EndpointConfig: { Aliases: aliases } } : {}) });
  } catch (err) {
    await container.remove({ force: true, v: true }).catch(() => undefined);
    const why = statusOf(err) === 404 ? missingNetwork(network) : engineMessage(err);
    throw new RuntimeError(`joining container ${name} to network ${network}: ${why}`, { cause: err });
  }
}
