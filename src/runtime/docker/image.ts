import { RuntimeError } from '../../errors.js';
import type { DockerContext } from './context.js';
import { mapDockerError, statusOf } from './errors.js';

/**
 * Makes sure `image` is on the Docker host before a container is created from it.
 * berth never pulls unless the runtime was built with `allowPull`: what runs is what
 * the operator built or loaded, and an unreachable registry must not stall a cold start.
 */
export async function ensureImage(ctx: DockerContext, image: string): Promise<void> {
  const docker = ctx.docker();
  try {
    await docker.getImage(image).inspect();
    return;
  } catch (err) {
    if (statusOf(err) !== 404) throw mapDockerError(err, `inspecting image ${image}`, ctx.endpoint.url);
  }
  if (!ctx.allowPull) {
    // The image is the spec's; the engine's address is the gateway's setup, not for the app's clients.
    throw new RuntimeError(`image ${image} is not present on the Docker host at ${ctx.endpoint.url}; build or load it (berth never pulls)`, {
      publicMessage: `image ${image} is not present on the Docker host; build or load it (berth never pulls)`,
    });
  }
  try {
    const stream = await docker.pull(image);
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()));
    });
  } catch (err) {
    throw new RuntimeError(`pulling image ${image}: ${mapDockerError(err, 'pull', ctx.endpoint.url).message}`, { cause: err });
  }
}

/**
 * Whether `image` declares a HEALTHCHECK (one not switched off with `HEALTHCHECK
 * NONE`), read from the engine's local copy; false when the image is not there.
 */
export async function imageHasHealthcheck(ctx: DockerContext, image: string): Promise<boolean> {
  return (await readImageHealthcheck(ctx, image)) ?? false;
}

/** As imageHasHealthcheck, but undefined when the image is not there: not known, rather than none. */
export async function readImageHealthcheck(ctx: DockerContext, image: string): Promise<boolean | undefined> {
  let info: { Config?: { Healthcheck?: { Test?: string[] | null } | null } };
  try {
    info = await ctx.docker().getImage(image).inspect();
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw mapDockerError(err, `inspecting image ${image}`, ctx.endpoint.url);
  }
  return declaresHealthcheck(info.Config?.Healthcheck?.Test);
}

/** A HEALTHCHECK's Test as the engine keeps it: `["CMD", …]` or `["CMD-SHELL", …]` checks; none, `[]` (inherited) or `["NONE"]` do not. Pure. */
export function declaresHealthcheck(test: readonly string[] | null | undefined): boolean {
  return Array.isArray(test) && test.length > 0 && test[0] !== 'NONE';
}

/** The TCP ports `image` EXPOSEs, ascending; undefined when it is not on the host. See Runtime.imagePorts. */
export async function imagePorts(ctx: DockerContext, image: string): Promise<number[] | undefined> {
  let info: { Config?: { ExposedPorts?: Record<string, unknown> } };
  try {
    info = await ctx.docker().getImage(image).inspect();
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw mapDockerError(err, `inspecting image ${image}`, ctx.endpoint.url);
  }
  return exposedTcpPorts(info.Config?.ExposedPorts);
}

/** `{"8080/tcp": {}, "53/udp": {}, "9000": {}}` → [8080, 9000]: TCP only (a bare port is TCP), ascending. Pure. */
export function exposedTcpPorts(exposed: Record<string, unknown> | undefined | null): number[] {
  const ports = new Set<number>();
  for (const key of Object.keys(exposed ?? {})) {
    const [port, proto = 'tcp'] = key.split('/');
    const n = Number(port);
    if (proto === 'tcp' && Number.isInteger(n) && n > 0 && n <= 65535) ports.add(n);
  }
  return [...ports].sort((a, b) => a - b);
}
