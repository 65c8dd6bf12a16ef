import { createHash } from 'node:crypto';
import type { AppSpec } from './types.js';

/** JSON with object keys sorted, so equal specs serialize identically. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}

/** Short content hash of a whole spec: equal hashes mean nothing changed. */
export function specHash(spec: AppSpec): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex').slice(0, 16);
}

/** How input URLs are signed (InputSource): a new value here makes every container taking input by URL anew. */
const INPUT_URL_SIGNING = 'name+input';

/** The fields of a spec that shape the container itself; changing one means new containers. */
const CONTAINER_FIELDS = ['name', 'image', 'port', 'env', 'volume', 'command', 'resources', 'network', 'mounts', 'labels', 'input', 'security'] as const;

/**
 * Hash of the parts of a spec that shape the container itself. Routes, scale,
 * timeouts and waiting behaviour live in the gateway, so changing them must not
 * recreate a running container. The input is part of the container (its env or a
 * file put in at create); an absent input adds nothing, so older hashes stand.
 * So is `security` (privileges, capabilities, host namespaces): dropping
 * `privileged` must not leave a privileged container running. Security that asks
 * for nothing adds nothing, so hashes made before it was covered stand.
 * Only the spec is covered: gateway defaults (defaults.resources, inputBaseUrl)
 * applied at create time are not, so changing them does not recreate containers.
 */
export function containerSpecHash(spec: AppSpec): string {
  const shape: Record<string, unknown> = {};
  for (const key of CONTAINER_FIELDS) shape[key] = spec[key];
  if (asksNothing(spec.security)) delete shape.security;
  // Containers made before the input URL was signed with the input too hold a URL that no
  // longer opens it: a mark makes their hash differ, so they are made anew at their next start.
  if (spec.input?.as === 'url') shape.inputUrl = INPUT_URL_SIGNING;
  return createHash('sha256').update(canonicalJson(shape)).digest('hex').slice(0, 16);
}

/** `spec` with the container-shaping fields of `source`: the rest of `spec`, the containers of `source`. */
export function withContainerOf(spec: AppSpec, source: AppSpec): AppSpec {
  const out: Record<string, unknown> = { ...spec };
  for (const key of CONTAINER_FIELDS) out[key] = source[key];
  return out as unknown as AppSpec;
}

function asksNothing(security: AppSpec['security'] | undefined): boolean {
  return !security || (!security.privileged && security.capAdd.length === 0 && !security.hostNetwork && !security.hostPid);
}
