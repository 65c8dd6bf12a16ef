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

/**
 * Hash of the parts of a spec that shape the container itself. Routes, scale,
 * timeouts and waiting behaviour live in the gateway, so changing them must not
 * recreate a running container. The input is part of the container (its env or a
 * file put in at create); an absent input adds nothing, so older hashes stand.
 * Only the spec is covered: gateway defaults (defaults.resources, inputBaseUrl)
 * applied at create time are not, so changing them does not recreate containers.
 */
export function containerSpecHash(spec: AppSpec): string {
  const { name, image, port, env, volume, command, resources, network, mounts, labels, input } = spec;
  const shape = { name, image, port, env, volume, command, resources, network, mounts, labels, input };
  return createHash('sha256').update(canonicalJson(shape)).digest('hex').slice(0, 16);
}
