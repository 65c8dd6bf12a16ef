import type { GatewayConfig } from '../config/config.js';
import type { AppSpec } from '../spec/types.js';
import type { ProxySettings, RouteEntry } from './state-feed.js';

/** What proxy workers route by: each app's routes and the spec settings the proxy reads. Pure. */
export function routeEntriesOf(specs: Iterable<AppSpec>): RouteEntry[] {
  return [...specs].map((spec) => {
    const entry: RouteEntry = { app: spec.name, routes: spec.routes, balance: spec.balance };
    if (spec.timeouts !== undefined) entry.timeouts = spec.timeouts;
    if (spec.input?.as === 'url') entry.input = spec.input.json;
    if (spec.hsts !== undefined) entry.hsts = spec.hsts;
    return entry;
  });
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
