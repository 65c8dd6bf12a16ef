import { isDeepStrictEqual } from 'node:util';
import type { GatewayConfig } from './config.js';

/**
 * Settings read once at start: listeners, store, engine, worker processes and the
 * bounds handed to them. A reload that changes one of these applies the rest and
 * names these, so an operator is never left believing a new port or store is live.
 */
const RESTART_ONLY: ReadonlyArray<[string, (c: GatewayConfig) => unknown]> = [
  ['listen', (c) => c.listen],
  ['admin', (c) => c.admin],
  ['store', (c) => c.store],
  ['runtime', (c) => c.runtime],
  ['docker', (c) => c.docker],
  ['swarm', (c) => c.swarm],
  ['upstreamHost', (c) => c.upstreamHost],
  ['publishHost', (c) => c.publishHost],
  ['appsNetwork', (c) => c.appsNetwork],
  ['workers', (c) => c.workers],
  ['limits', (c) => c.limits],
  ['timeouts', (c) => c.timeouts],
  ['trustedProxies', (c) => c.trustedProxies],
  ['resync', (c) => c.resyncMs],
  ['gatewayId', (c) => c.gatewayId],
  ['history', (c) => c.history],
  ['usage', (c) => c.usage],
  // A tls block added or removed, or its listener moved: the HTTPS listener is opened at start. Its acme
  // block too: the ACME client is made at start with it (certificates and redirects apply at reload).
  ['tls', (c) => (c.tls ? { listen: c.tls.listen, acme: c.tls.acme } : undefined)],
];

/** The settings a reload changed that only take effect at the next start, by config field name. Pure. */
export function restartOnlyChanges(before: GatewayConfig, after: GatewayConfig): string[] {
  return RESTART_ONLY.filter(([, of]) => !isDeepStrictEqual(of(before), of(after))).map(([name]) => name);
}

/**
 * Why a reloaded config file looks half-written rather than meant, or undefined.
 * An editor's save caught mid-write reads as an empty file or one cut before its
 * `apps` key; both parse as valid YAML and, taken as they are, would remove every
 * config app (stopping their containers) and reset every setting to its default.
 * Emptying the config's apps takes an explicit `apps: []`. Pure.
 */
export function halfWrittenProblem(raw: unknown, previous: GatewayConfig): string | undefined {
  if (raw === null || raw === undefined || (typeof raw === 'object' && !Array.isArray(raw) && Object.keys(raw).length === 0)) {
    return 'is empty (a save still being written?); the previous configuration keeps serving';
  }
  if (typeof raw === 'object' && !Array.isArray(raw) && !('apps' in raw) && previous.apps.length > 0) {
    return `has no apps key while ${previous.apps.length} app(s) came from it (a save cut short?); write apps: [] to remove them all`;
  }
  return undefined;
}

/**
 * Why a spec file read at a reload looks half-written, or undefined: it declares no
 * app (it is empty, or comments only) while `before` (the apps the configuration in
 * force read from it) came from it. Taken as it is, the save caught mid-write removed
 * those apps and stopped their containers, as an empty config file would have.
 * A file that declared nothing before is let be empty. Pure.
 */
export function emptiedSpecProblem(before: readonly string[] | undefined): string | undefined {
  if (!before || before.length === 0) return undefined;
  return `declares no app while ${before.join(', ')} came from it (a save still being written?); the previous configuration keeps serving; to remove ${before.length === 1 ? 'it' : 'them'}, take the file out of apps (or out of its directory)`;
}

/**
 * The log level in force: BERTH_LOG_LEVEL wins, then the config's `logLevel`, then
 * the level the gateway started with; so removing `logLevel: debug` in a reload ends
 * the debug lines instead of leaving them on until a restart. Pure.
 */
export function logLevelFor(configLevel: string | undefined, envLevel: string | undefined, startLevel: string): string {
  return envLevel || configLevel || startLevel;
}
