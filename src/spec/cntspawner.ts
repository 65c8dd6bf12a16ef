/**
 * The cntSpawner `POST /v1/` body, accepted as cntSpawner clients send it:
 *
 *   {"name": "minion-1", "network": "traefiknet", "image": "minionapp:latest",
 *    "labels": {"traefik.http.routers.minion-1.rule": "PathPrefix(\"/session/minion-1/\")", ...},
 *    "envs": {"CONNSTR": "db 1", "IDLE": "1m"}}
 *
 * Router rules become routes; a Traefik service port label becomes the port; other
 * `traefik.*` labels only configured Traefik and are dropped; other labels are kept.
 * `envs` (a mapping, or Docker's list of "NAME=value") becomes env, and `IDLE` also
 * sets idleTimeout: the minion app stopped itself after IDLE, berth now does it.
 * IDLE stays in env so an app that reads it behaves as before. A body without IDLE
 * gets the minion's own default, 1m, not the gateway's defaults.idleTimeout: the
 * cntSpawner client never set an idle time because its app stopped after a minute.
 */
import { z } from 'zod';
import { checkCompat, type Mapped } from './compat.js';
import type { Checked, PathSegment } from './path.js';
import { isRecord } from './record.js';
import { routeKey } from './route-key.js';
import { parseTraefikRule } from './traefik-rule.js';
import type { AppSpec } from './types.js';

/*
 * The body has no port; Traefik took the one port the image exposes. berth takes
 * `port` (a berth extension), then a Traefik service port label, and else leaves
 * it out: apply reads it from the image as Traefik did (gateway/image-ports.ts).
 */

// A refinement, not a type: the union above would hide its message behind its own.
const plainValue = z.unknown().refine((v) => ['string', 'number', 'boolean'].includes(typeof v), 'must be a string, number or boolean');

export const cntSpawnerSchema = z.strictObject({
  name: z.unknown(),
  image: z.unknown(),
  network: z.unknown().optional(),
  port: z.unknown().optional(),
  labels: z.record(z.string(), z.unknown()).optional(),
  envs: z
    // Plain values only: cntSpawner bodies have no secret form (berth/v1 has).
    .union([z.record(z.string(), plainValue), z.array(z.string().regex(/=/, 'must be "NAME=value"'))], {
      error: 'must be a mapping of NAME: value or a list of "NAME=value"',
    })
    .optional(),
});

/** The keys a cntSpawner body may have; used to recognise one that has no apiVersion. */
export const CNTSPAWNER_KEYS: readonly string[] = Object.keys(cntSpawnerSchema.shape);

const ROUTER_RULE = /^traefik\.http\.routers\.[^.]+\.rule$/;
const SERVICE_PORT = /^traefik\.http\.services\.[^.]+\.loadbalancer\.server\.port$/;

function mapLabels(labels: Record<string, unknown>, out: Mapped): void {
  // Maps, not objects, while building: a key like "constructor" is just a name.
  const kept = new Map<string, unknown>();
  const routes: Array<{ host?: string; path?: string }> = [];
  const seen = new Set<string>();
  for (const [key, value] of Object.entries(labels)) {
    const at: PathSegment[] = ['labels', key];
    if (!key.startsWith('traefik.')) kept.set(key, value);
    else if (SERVICE_PORT.test(key) && out.input.port === undefined) {
      out.input.port = typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : value;
      out.mappings.push({ from: ['port'], to: at });
    } else if (ROUTER_RULE.test(key)) {
      const rule = parseTraefikRule(String(value));
      if (!rule.ok) out.issues.push({ path: at, message: rule.message });
      // Several routers may name the same route; berth needs it once.
      for (const { source, ...route } of rule.ok ? rule.routes : []) {
        if (seen.has(routeKey(route))) continue;
        seen.add(routeKey(route));
        out.mappings.push({ from: ['routes', routes.length], to: at, note: source, whole: true });
        routes.push(route);
      }
    }
  }
  out.input.labels = Object.fromEntries(kept);
  if (routes.length > 0) out.input.routes = routes;
}

function mapEnvs(envs: Record<string, unknown> | unknown[], out: Mapped): void {
  const env = new Map<string, unknown>();
  type Entry = [name: string, value: unknown, at: PathSegment[]];
  const entries: Entry[] = Array.isArray(envs)
    ? envs.flatMap((e, i): Entry[] => {
        // Malformed entries are reported by the shape check; map the rest.
        const cut = typeof e === 'string' ? e.indexOf('=') : -1;
        return cut >= 0 ? [[(e as string).slice(0, cut), (e as string).slice(cut + 1), ['envs', i]]] : [];
      })
    : Object.entries(envs).map(([name, value]): Entry => [name, value, ['envs', name]]);
  for (const [name, value, at] of entries) {
    // Not a plain value: the shape check reports it; berth/v1 would take an object for a secret.
    if (typeof value === 'object') continue;
    if (env.has(name)) {
      out.issues.push({ path: at, message: `${name} is set twice` });
      continue;
    }
    env.set(name, value);
    out.mappings.push({ from: ['env', name], to: at });
    if (name === 'IDLE') {
      out.input.idleTimeout = value;
      out.mappings.push({ from: ['idleTimeout'], to: at, note: 'IDLE' });
    }
  }
  out.input.env = Object.fromEntries(env);
}

/** What the minion app did without IDLE: it stopped itself after a minute. */
const MINION_IDLE_DEFAULT = '1m';

export function cntSpawnerToBerthInput(body: Record<string, unknown>): Mapped {
  const out: Mapped = { input: { apiVersion: 'berth/v1', name: body.name, image: body.image }, mappings: [], issues: [] };
  if (body.port !== undefined) out.input.port = body.port;
  if (body.network !== undefined) out.input.network = body.network;
  if (isRecord(body.labels)) mapLabels(body.labels, out);
  if (isRecord(body.envs) || Array.isArray(body.envs)) mapEnvs(body.envs, out);
  out.input.idleTimeout ??= MINION_IDLE_DEFAULT;
  return out;
}

export function checkCntSpawnerBody(doc: unknown): Checked<AppSpec> {
  return checkCompat(doc, cntSpawnerSchema, (d) => (isRecord(d) ? cntSpawnerToBerthInput(d) : undefined));
}
