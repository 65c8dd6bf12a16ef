/**
 * The inverse of parsing: an AppSpec written back as the berth/v1 document a user
 * writes, for `berth get NAME --export` (edit it, `berth apply -f` it). Whatever form
 * the app came in (berth/v1, SWS, cntSpawner), it goes out as berth/v1.
 *
 * The promise, tested over every example and generated specs: parsing the document
 * gives back the same spec (the same specHash), except for secret literals, which
 * never leave here (see below).
 *
 * A field equal to what the parser fills in when it is left out is left out: the
 * document reads as a person writes it (the README's examples), not as a dump of
 * every default. The cost is that a default berth changes later applies to a
 * re-applied export too, as it does to the file the user wrote in the first place.
 * Defaults that are the gateway's (idleTimeout, queueSize, timeouts…) are absent
 * from the spec anyway, and so stay the gateway's. The routes are always written,
 * the default `/session/<name>/` too: where the app answers is what one reads an
 * export for, and every example in the README names its routes.
 *
 * Secret literals go out as the marker `<redacted>`, whatever the spec held: apply
 * refuses the marker (env-value.ts), naming the variable, so an export applied
 * without its secrets written back in can never replace a secret by a placeholder.
 * References (`fromFile`, `fromEnv`) are no secret and go out as they are.
 */
import { exactDurationText } from './duration.js';
import { REDACTED, type EnvValue } from './env-value.js';
import { parseSpecObject } from './parse.js';
import { sizeValue } from './size.js';
import { PORT_FROM_IMAGE, type AppSpec, type RouteSpec } from './types.js';

/** A berth/v1 document: a plain object whose keys are in the order a person writes them. */
export type SpecDocument = Record<string, unknown>;

/**
 * What the parser fills in (schema.ts, normalize.ts), so a value equal to it is left out: read from
 * the parser itself, with every optional block that has defaults of its own named, so a default
 * changed there is a default here too, not a value an export writes out or drops.
 */
const PARSED_DEFAULTS = parseSpecObject({ apiVersion: 'berth/v1', name: 'defaults', image: 'defaults', port: 1, routes: [{ host: 'defaults.example' }], health: { path: '/' }, hsts: {}, input: { data: {} } });
const DEFAULT_HEALTH = PARSED_DEFAULTS.health!;
const DEFAULT_INPUT = PARSED_DEFAULTS.input!;

/**
 * Every field of an AppSpec, each written below. A field added to AppSpec fails the
 * build here until it is written out too, so an export never drops one silently.
 */
const WRITTEN: Record<keyof AppSpec, true> = {
  name: true, image: true, port: true, routes: true, env: true, volume: true, command: true, scale: true,
  balance: true, health: true, strategy: true, input: true, dependsOn: true, idleTimeoutMs: true,
  startTimeoutMs: true, timeouts: true, readiness: true, resources: true, waiting: true, idleAction: true,
  removeAfterMs: true, queueSize: true, waitingPage: true, network: true, hsts: true, mounts: true,
  security: true, labels: true,
};

/** Fields of a spec (a newer gateway's, read by an older CLI) that specDocument does not know and would drop. Pure. */
export function unwrittenFields(spec: object): string[] {
  return Object.keys(spec).filter((key) => !Object.hasOwn(WRITTEN, key));
}

/** Variables whose value is a secret literal: the document carries the marker in their place. Pure. */
export function redactedVariables(spec: Pick<AppSpec, 'env'>): string[] {
  return Object.keys(spec.env).filter((key) => isSecretLiteral(spec.env[key]!));
}

/** The berth/v1 document of `spec`, `apiVersion` first, then the fields in the README's order. Pure. */
export function specDocument(spec: AppSpec): SpecDocument {
  const doc: SpecDocument = { apiVersion: 'berth/v1', name: spec.name, image: spec.image };
  // A spec not yet through apply may still wait for its port from the image: leave it so.
  if (spec.port !== PORT_FROM_IMAGE) doc.port = spec.port;
  doc.routes = spec.routes.map(routeDocument);
  if (Object.keys(spec.env).length > 0) doc.env = Object.fromEntries(Object.entries(spec.env).map(([key, value]) => [key, envDocument(value)]));
  if (spec.readiness.path !== undefined) doc.readiness = { path: spec.readiness.path };
  const scale = scaleDocument(spec.scale);
  if (scale) doc.scale = scale;
  if (spec.idleTimeoutMs !== undefined) doc.idleTimeout = exactDurationText(spec.idleTimeoutMs);
  if (spec.startTimeoutMs !== PARSED_DEFAULTS.startTimeoutMs) doc.startTimeout = exactDurationText(spec.startTimeoutMs);
  if (spec.timeouts) {
    const timeouts: SpecDocument = {};
    if (spec.timeouts.connectMs !== undefined) timeouts.connect = exactDurationText(spec.timeouts.connectMs);
    if (spec.timeouts.responseMs !== undefined) timeouts.response = exactDurationText(spec.timeouts.responseMs);
    doc.timeouts = timeouts;
  }
  if (spec.volume !== undefined) doc.volume = spec.volume;
  if (spec.command !== undefined) doc.command = [...spec.command];
  if (spec.input) doc.input = inputDocument(spec.input);
  if (spec.waiting !== PARSED_DEFAULTS.waiting) doc.waiting = spec.waiting;
  if (spec.waitingPage) doc.waitingPage = { ...spec.waitingPage };
  if (spec.queueSize !== undefined) doc.queueSize = spec.queueSize;
  if (spec.balance !== PARSED_DEFAULTS.balance) doc.balance = spec.balance;
  if (spec.health) doc.health = healthDocument(spec.health);
  if (spec.strategy.type !== PARSED_DEFAULTS.strategy.type || spec.strategy.batchSize !== PARSED_DEFAULTS.strategy.batchSize) doc.strategy = strategyDocument(spec.strategy);
  if (spec.dependsOn.length > 0) doc.dependsOn = [...spec.dependsOn];
  if (spec.idleAction !== PARSED_DEFAULTS.idleAction) doc.idleAction = spec.idleAction;
  if (spec.removeAfterMs !== undefined) doc.removeAfter = exactDurationText(spec.removeAfterMs);
  const resources = resourcesDocument(spec.resources);
  if (resources) doc.resources = resources;
  if (spec.network !== undefined) doc.network = spec.network;
  if (spec.mounts.length > 0) doc.mounts = spec.mounts.map((m) => (m.readOnly ? { source: m.source, target: m.target, readOnly: true } : { source: m.source, target: m.target }));
  const security = securityDocument(spec.security);
  if (security) doc.security = security;
  if (spec.hsts) doc.hsts = hstsDocument(spec.hsts);
  if (Object.keys(spec.labels).length > 0) doc.labels = { ...spec.labels };
  return doc;
}

function isSecretLiteral(value: EnvValue): boolean {
  return typeof value === 'object' && 'secret' in value;
}

function envDocument(value: EnvValue): EnvValue {
  if (isSecretLiteral(value)) return { secret: REDACTED };
  return typeof value === 'object' ? { ...value } : value;
}

function routeDocument(route: RouteSpec): SpecDocument {
  const out: SpecDocument = {};
  if (route.host !== undefined) out.host = route.host;
  if (route.path !== undefined) out.path = route.path;
  if (route.stripPrefix) out.stripPrefix = true;
  if (route.redirectHttps !== undefined) out.redirectHttps = route.redirectHttps;
  return out;
}

/** Only what differs from the parser's defaults, which depend on each other (normalize.ts). */
function scaleDocument(scale: AppSpec['scale']): SpecDocument | undefined {
  const out: SpecDocument = {};
  if (scale.min !== 0) out.min = scale.min;
  if (scale.replicas !== Math.max(scale.min, 1)) out.replicas = scale.replicas;
  // Left out, max is the largest of min, replicas and 1, whether replicas was written or defaulted.
  if (scale.max !== Math.max(scale.min, scale.replicas, 1)) out.max = scale.max;
  return Object.keys(out).length > 0 ? out : undefined;
}

function inputDocument(input: NonNullable<AppSpec['input']>): SpecDocument {
  const out: SpecDocument = { data: JSON.parse(input.json) as unknown };
  if (input.as !== DEFAULT_INPUT.as) out.as = input.as;
  if (input.env !== DEFAULT_INPUT.env) out.env = input.env;
  if (input.path !== DEFAULT_INPUT.path) out.path = input.path;
  return out;
}

function healthDocument(health: NonNullable<AppSpec['health']>): SpecDocument {
  const out: SpecDocument = { path: health.path };
  if (health.intervalMs !== DEFAULT_HEALTH.intervalMs) out.interval = exactDurationText(health.intervalMs);
  if (health.timeoutMs !== DEFAULT_HEALTH.timeoutMs) out.timeout = exactDurationText(health.timeoutMs);
  if (health.unhealthyThreshold !== DEFAULT_HEALTH.unhealthyThreshold) out.unhealthyThreshold = health.unhealthyThreshold;
  if (health.healthyThreshold !== DEFAULT_HEALTH.healthyThreshold) out.healthyThreshold = health.healthyThreshold;
  return out;
}

function strategyDocument(strategy: AppSpec['strategy']): SpecDocument {
  const out: SpecDocument = {};
  if (strategy.type !== PARSED_DEFAULTS.strategy.type) out.type = strategy.type;
  if (strategy.batchSize !== PARSED_DEFAULTS.strategy.batchSize) out.batchSize = strategy.batchSize;
  return out;
}

function resourcesDocument(resources: AppSpec['resources']): SpecDocument | undefined {
  const out: SpecDocument = {};
  if (resources.memoryBytes !== undefined) out.memory = sizeValue(resources.memoryBytes);
  if (resources.cpus !== undefined) out.cpus = resources.cpus;
  if (resources.pids !== undefined) out.pids = resources.pids;
  return Object.keys(out).length > 0 ? out : undefined;
}

function securityDocument(security: AppSpec['security']): SpecDocument | undefined {
  const out: SpecDocument = {};
  if (security.privileged) out.privileged = true;
  if (security.capAdd.length > 0) out.capAdd = [...security.capAdd];
  if (security.hostNetwork) out.hostNetwork = true;
  if (security.hostPid) out.hostPid = true;
  return Object.keys(out).length > 0 ? out : undefined;
}

function hstsDocument(hsts: NonNullable<AppSpec['hsts']>): SpecDocument {
  const out: SpecDocument = {};
  // The parser keeps whole seconds (rounded down), so a maxAge under 1s was stored as 0;
  // "1ms" is the shortest text that gives 0 again ("0s" is refused: not longer than 0).
  if (hsts.maxAgeS !== PARSED_DEFAULTS.hsts!.maxAgeS) out.maxAge = hsts.maxAgeS === 0 ? '1ms' : exactDurationText(hsts.maxAgeS * 1000);
  if (hsts.includeSubDomains) out.includeSubDomains = true;
  if (hsts.preload) out.preload = true;
  return out;
}
