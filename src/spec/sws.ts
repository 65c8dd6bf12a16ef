/**
 * The SWS service declaration (`apiVersion: v1`), accepted as SWS users write it:
 *
 *   apiVersion: v1
 *   spec: {name, port, domain, image, volumeMount?, env?: [{name, value}]}
 *
 * It maps onto berth/v1 as: domain → a host route, volumeMount → volume, the env
 * list → the env map. Problems are reported at SWS paths (`spec.env[1].name`).
 * SWS named its volume `<name>-volume`; berth uses its own labelled volume
 * `berth-<name>-data`, so data in an old SWS volume is not carried over.
 */
import { z } from 'zod';
import { checkCompat, type Mapped } from './compat.js';
import { envNameField } from './fields.js';
import type { Checked, SpecIssue } from './path.js';
import { isRecord } from './record.js';
import type { PathMapping } from './remap.js';
import type { AppSpec } from './types.js';

/** The document's shape only; the values are checked by the berth/v1 rules after mapping. */
export const swsSchema = z.strictObject({
  apiVersion: z.literal('v1'),
  spec: z.strictObject({
    name: z.unknown(),
    port: z.unknown().optional(),
    domain: z.unknown(),
    image: z.unknown(),
    volumeMount: z.unknown().optional(),
    env: z.array(z.strictObject({ name: envNameField, value: z.unknown() })).optional(),
  }),
});

/** Maps what can be mapped, even from a flawed document, so every problem is found in one pass. */
export function swsToBerthInput(spec: Record<string, unknown>): Mapped {
  const input: Record<string, unknown> = { apiVersion: 'berth/v1', name: spec.name, image: spec.image };
  // Left out, the port is read from the image at apply.
  if (spec.port !== undefined) input.port = spec.port;
  const mappings: PathMapping[] = [
    { from: ['name'], to: ['spec', 'name'] },
    { from: ['image'], to: ['spec', 'image'] },
    { from: ['port'], to: ['spec', 'port'] },
    { from: ['routes', 0, 'host'], to: ['spec', 'domain'] },
    { from: ['volume'], to: ['spec', 'volumeMount'] },
  ];
  const issues: SpecIssue[] = [];
  if (spec.domain !== undefined) input.routes = [{ host: spec.domain }];
  if (spec.volumeMount !== undefined) input.volume = spec.volumeMount;
  if (Array.isArray(spec.env)) {
    // A Map while building, so a name like "constructor" is just a name.
    const env = new Map<string, unknown>();
    const firstIndex = new Map<string, number>();
    spec.env.forEach((entry: unknown, i) => {
      if (!isRecord(entry) || entry.value === undefined || !envNameField.safeParse(entry.name).success) return;
      const name = entry.name as string;
      const first = firstIndex.get(name);
      if (first !== undefined) {
        issues.push({ path: ['spec', 'env', i, 'name'], message: `${name} is already set by spec.env[${first}]` });
        return;
      }
      firstIndex.set(name, i);
      env.set(name, entry.value);
      mappings.push({ from: ['env', name], to: ['spec', 'env', i, 'value'] });
    });
    input.env = Object.fromEntries(env);
  }
  return { input, mappings, issues };
}

export function checkSwsApp(doc: unknown): Checked<AppSpec> {
  return checkCompat(doc, swsSchema, (d) => (isRecord(d) && isRecord(d.spec) ? swsToBerthInput(d.spec) : undefined));
}
