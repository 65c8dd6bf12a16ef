/**
 * The spec boundary: turning what users write (berth/v1, SWS v1, cntSpawner /v1/
 * bodies; YAML or JSON) into validated AppSpecs, checking a set of them against
 * each other and the gateway's Docker policy, and the JSON Schema for editors.
 */
export { parseCntSpawnerBody, parseSpecObject, parseSpecText } from './parse.js';
export { validateAppSet, type GatewayClaims, type SetLimits } from './validate-set.js';
export { dependents, wakeOrder } from './depends-on.js';
export { appSpecJsonSchema, APP_SCHEMA_ID } from './json-schema.js';
export { berthAppSchema, type BerthAppInput } from './schema.js';
export { formatDuration, MAX_DURATION_MS, parseDuration, parseLongDuration } from './duration.js';
export { parseSize } from './size.js';
export { effectiveHost } from './route-collisions.js';
export { RESERVED_NAMES } from './reserved-names.js';
export { gatewayClaims, reservedRouteHosts } from './route-rules.js';
export { canonicalJson, containerSpecHash, specHash } from './hash.js';
export type { AppSpec, DockerPolicy, MountSpec, ReadinessSpec, ResourcesSpec, RouteSpec, WaitingMode } from './types.js';
