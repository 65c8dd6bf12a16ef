import type { GatewayConfig } from '../config/config.js';
import type { AppSpec } from '../spec/types.js';
import type { ProxySettings, RouteEntry, StateFeed } from './state-feed.js';

/**
 * Each spec's entry, built once: an unchanged spec (the same object) gives the same
 * entry, which the feed's delta passes over without comparing (route-delta.ts).
 */
const entries = new WeakMap<AppSpec, RouteEntry>();

/** What proxy workers route by: each app's routes and the spec settings the proxy reads. Pure (memoised per spec object). */
export function routeEntriesOf(specs: Iterable<AppSpec>): RouteEntry[] {
  const out: RouteEntry[] = [];
  for (const spec of specs) {
    let entry = entries.get(spec);
    if (!entry) entries.set(spec, (entry = routeEntryOf(spec)));
    out.push(entry);
  }
  return out;
}

function routeEntryOf(spec: AppSpec): RouteEntry {
  const entry: RouteEntry = { app: spec.name, routes: spec.routes, balance: spec.balance };
  if (spec.timeouts !== undefined) entry.timeouts = spec.timeouts;
  if (spec.input?.as === 'url') entry.input = spec.input.json;
  if (spec.hsts !== undefined) entry.hsts = spec.hsts;
  return entry;
}

/** A worker's settings from the gateway's config (the listener's address is the pool's). Pure. */
export function proxySettingsOf(config: GatewayConfig, inputSecret: Buffer, maxConnections: number | undefined, logLevel: string): Omit<ProxySettings, 'host' | 'port'> {
  const settings: Omit<ProxySettings, 'host' | 'port'> = {
    trustedProxies: config.trustedProxies,
    maxRequestHeaders: config.limits.requestHeaders,
    timeouts: { ...config.timeouts },
    logLevel,
    inputSecret: inputSecret.toString('hex'),
  };
  if (maxConnections !== undefined) settings.maxConnections = maxConnections;
  if (config.limits.connectionsPerClient !== undefined) settings.maxConnectionsPerClient = config.limits.connectionsPerClient;
  if (config.waitingPage.html !== undefined) settings.waitingPageHtml = config.waitingPage.html;
  return settings;
}

/**
 * The activator's barrier before an idle stop or a drain (its `quiesce`): this gateway's proxy
 * workers' (`workers: N`), then the other gateways' (several gateways on one store), with the
 * workers kept fenced through the latter: each lift comes after the caller's decision.
 */
export function barrier(app: string, workers: Pick<StateFeed, 'fence'> | undefined, gateways: Pick<StateFeed, 'fence'> | undefined): Promise<void> {
  if (!workers) return gateways?.fence(app) ?? Promise.resolve();
  return workers.fence(app, gateways && (() => gateways.fence(app)));
}
