import { SpecError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { PORT_FROM_IMAGE, type AppSpec } from '../spec/types.js';

/** Where each spec form names the port, for the message asking for one. */
const PORT_FIELDS = '`port` (SWS: `spec.port`; cntSpawner body: `port` or a traefik.http.services.<name>.loadbalancer.server.port label)';

/**
 * The port of a spec that named none, from what its image EXPOSEs: the one port,
 * as Traefik takes it; with none or several (or no local image) there is no safe
 * guess, and the answer is a problem asking for the port. Pure.
 */
export function portFromImage(image: string, exposed: readonly number[] | undefined): { port: number } | { problem: string } {
  if (exposed === undefined) return { problem: `no port named, and image ${image} is not on the Docker host to read its EXPOSEd port from; name the port the app listens on in ${PORT_FIELDS}` };
  if (exposed.length === 1) return { port: exposed[0]! };
  const seen = exposed.length === 0 ? 'exposes no port' : `exposes ${exposed.length} ports (${exposed.join(', ')})`;
  return { problem: `no port named, and image ${image} ${seen}; name the port the app listens on in ${PORT_FIELDS}` };
}

/**
 * Specs with every port known: those that named none get their image's one EXPOSEd
 * port. Refused as a whole (SpecError, a 422) when any cannot be resolved, naming
 * each app. Images are inspected once each.
 */
export async function resolveImagePorts(specs: readonly AppSpec[], runtime: Pick<Runtime, 'imagePorts'>, source?: string): Promise<AppSpec[]> {
  const open = specs.filter((s) => s.port === PORT_FROM_IMAGE);
  if (open.length === 0) return [...specs];
  const images = [...new Set(open.map((s) => s.image))];
  const exposed = new Map(await Promise.all(images.map(async (image) => [image, await runtime.imagePorts(image)] as const)));
  const problems: Array<{ path: string; message: string }> = [];
  const resolved = specs.map((spec) => {
    if (spec.port !== PORT_FROM_IMAGE) return spec;
    const found = portFromImage(spec.image, exposed.get(spec.image));
    if ('problem' in found) {
      problems.push({ path: `${spec.name}.port`, message: found.problem });
      return spec;
    }
    return { ...spec, port: found.port };
  });
  if (problems.length > 0) throw new SpecError(problems, source);
  return resolved;
}
