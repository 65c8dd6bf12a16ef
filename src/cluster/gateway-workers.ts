import type { GatewayConfig } from '../config/config.js';
import type { AppSpec } from '../spec/types.js';
import type { ProxySettings, RouteEntry } from './state-feed.js';

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
  if (config.waitingPage.html !== undefined) settings.waitingPageHtml = config.waitingPage.html;
  return settings;
}
