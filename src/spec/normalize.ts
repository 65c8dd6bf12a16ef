/**
 * A validated berth/v1 document becomes the AppSpec the rest of berth reads:
 * defaults filled in, durations in milliseconds, sizes in bytes, routes in their
 * normal form. Validation has already happened, so nothing here can fail.
 */
import { parseDuration, parseLongDuration } from './duration.js';
import { normalizeEnvValue } from './env-value.js';
import { normalizeHost, normalizePathPrefix } from './route-key.js';
import type { BerthAppDocument } from './schema.js';
import { parseSize } from './size.js';
import { canonicalJson } from './hash.js';
import { PORT_FROM_IMAGE, type AppSpec, type ResourcesSpec, type RouteSpec } from './types.js';

export function defaultRoute(name: string): RouteSpec {
  return { path: `/session/${name}/`, stripPrefix: false };
}

function stringMap(map: Record<string, string | number | boolean> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(map ?? {}).map(([key, value]) => [key, String(value)]));
}

function normalizeRoute(route: NonNullable<BerthAppDocument['routes']>[number]): RouteSpec {
  const out: RouteSpec = { stripPrefix: route.stripPrefix };
  if (route.host !== undefined) out.host = normalizeHost(route.host);
  if (route.path !== undefined) out.path = normalizePathPrefix(route.path);
  if (route.redirectHttps !== undefined) out.redirectHttps = route.redirectHttps;
  return out;
}

function normalizeResources(doc: BerthAppDocument): ResourcesSpec {
  const out: ResourcesSpec = {};
  if (doc.resources?.memory !== undefined) out.memoryBytes = parseSize(doc.resources.memory);
  if (doc.resources?.cpus !== undefined) out.cpus = doc.resources.cpus;
  if (doc.resources?.pids !== undefined) out.pids = doc.resources.pids;
  return out;
}

export function normalizeApp(doc: BerthAppDocument): AppSpec {
  const min = doc.scale?.min ?? 0;
  const spec: AppSpec = {
    name: doc.name,
    image: doc.image,
    port: doc.port ?? PORT_FROM_IMAGE,
    routes: doc.routes ? doc.routes.map(normalizeRoute) : [defaultRoute(doc.name)],
    env: Object.fromEntries(Object.entries(doc.env ?? {}).map(([key, value]) => [key, normalizeEnvValue(value)])),
    scale: { min, max: doc.scale?.max ?? Math.max(min, doc.scale?.replicas ?? 1, 1), replicas: doc.scale?.replicas ?? Math.max(min, 1) },
    balance: doc.balance,
    strategy: { type: doc.strategy?.type ?? 'blue-green', batchSize: doc.strategy?.batchSize ?? 1 },
    dependsOn: doc.dependsOn ?? [],
    startTimeoutMs: parseDuration(doc.startTimeout),
    readiness: doc.readiness?.path !== undefined ? { path: doc.readiness.path } : {},
    resources: normalizeResources(doc),
    waiting: doc.waiting,
    idleAction: doc.idleAction,
    mounts: (doc.mounts ?? []).map((m) => ({ source: m.source, target: m.target, readOnly: m.readOnly })),
    labels: stringMap(doc.labels),
    security: {
      privileged: doc.security?.privileged ?? false,
      capAdd: [...new Set(doc.security?.capAdd ?? [])].sort(),
      hostNetwork: doc.security?.hostNetwork ?? false,
      hostPid: doc.security?.hostPid ?? false,
    },
  };
  // Optional fields are left out rather than set to undefined, so equal specs compare
  // equal however they were written, and print without empty keys.
  if (doc.volume !== undefined) spec.volume = doc.volume;
  if (doc.command !== undefined) spec.command = doc.command;
  if (doc.idleTimeout !== undefined) spec.idleTimeoutMs = parseDuration(doc.idleTimeout);
  if (doc.network !== undefined) spec.network = doc.network;
  if (doc.removeAfter !== undefined) spec.removeAfterMs = parseDuration(doc.removeAfter);
  if (doc.timeouts?.connect !== undefined || doc.timeouts?.response !== undefined) {
    spec.timeouts = {};
    if (doc.timeouts.connect !== undefined) spec.timeouts.connectMs = parseDuration(doc.timeouts.connect);
    if (doc.timeouts.response !== undefined) spec.timeouts.responseMs = parseDuration(doc.timeouts.response);
  }
  if (doc.health !== undefined) {
    const h = doc.health;
    spec.health = { path: h.path, intervalMs: parseDuration(h.interval), timeoutMs: parseDuration(h.timeout), unhealthyThreshold: h.unhealthyThreshold, healthyThreshold: h.healthyThreshold };
  }
  if (doc.input !== undefined) spec.input = { json: canonicalJson(doc.input.data ?? null), as: doc.input.as, env: doc.input.env, path: doc.input.path };
  if (doc.queueSize !== undefined) spec.queueSize = doc.queueSize;
  if (doc.waitingPage !== undefined) spec.waitingPage = { ...doc.waitingPage };
  if (doc.hsts !== undefined) spec.hsts = { maxAgeS: Math.floor(parseLongDuration(doc.hsts.maxAge) / 1000), includeSubDomains: doc.hsts.includeSubDomains, preload: doc.hsts.preload };
  return spec;
}

/**
 * A spec stored by an earlier berth lacks fields added since; they get the
 * defaults a new spec would get, so an upgrade never breaks stored apps. The
 * stored spec hash is kept, so nothing is recreated just for reading it.
 */
export function withSpecDefaults(stored: AppSpec): AppSpec {
  const partial = stored as Partial<AppSpec> & Pick<AppSpec, 'name' | 'scale'>;
  return {
    ...stored,
    scale: { ...stored.scale, replicas: partial.scale.replicas ?? Math.max(partial.scale.min, 1) },
    balance: partial.balance ?? 'least-connections',
    strategy: partial.strategy ?? { type: 'blue-green', batchSize: 1 },
    dependsOn: partial.dependsOn ?? [],
    idleAction: partial.idleAction ?? 'stop',
    security: partial.security ?? { privileged: false, capAdd: [], hostNetwork: false, hostPid: false },
    mounts: partial.mounts ?? [],
    labels: partial.labels ?? {},
  };
}
