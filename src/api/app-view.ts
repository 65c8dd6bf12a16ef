import type { AppDetails } from '../gateway/app-service.js';
import { redactSpec } from '../spec/env-value.js';
import type { RouteSpec } from '../spec/types.js';
import { redirectsToHttps } from '../tls/edge-policy.js';
import type { AppView, Sent } from './wire-types.js';

/** An app as the API shows it: desired state, live state, instances, routes with URLs. */
export function appView(details: AppDetails, facts: UrlFacts): Sent<AppView> {
  const { app, status, instances } = details;
  return {
    name: app.name,
    revision: app.revision,
    source: app.source,
    createdAt: app.createdAt,
    updatedAt: app.updatedAt,
    state: status?.state ?? 'stopped',
    status: status ?? null,
    routes: app.spec.routes.map((route) => ({ ...route, url: routeUrl(route, app.name, facts) })),
    instances: instances.map((i) => ({
      id: i.id,
      name: i.name,
      state: i.state,
      health: i.health,
      address: i.address ? `${i.address.host}:${i.address.port}` : null,
      startedAt: i.startedAt ?? null,
    })),
    ...(details.instancesError === undefined ? {} : { instancesError: details.instancesError }),
    // Secret literals never leave the gateway; references (a path, a variable name) are not secret.
    spec: { ...redactSpec(app.spec) },
  };
}

/**
 * Where the gateway can be reached, as a URL names it: the proxy listener, and the HTTPS one
 * with the redirect rule (the `tls` block) when there is one.
 */
export interface UrlFacts {
  proxy?: { address: string; port: number };
  https?: { address: string; port: number };
  /** tls.redirect: plain HTTP gets 308 to HTTPS on every route whose own redirectHttps does not say otherwise. */
  redirect?: boolean;
  /** tls.redirectPort: the port clients reach the TLS listener on, when not its own. */
  redirectPort?: number;
}

/** A listener's address as a URL's host: an IPv6 one in brackets. */
export const urlHost = (address: string): string => (address.includes(':') ? `[${address}]` : address);

/** The host name a route answers for: its own, or a wildcard's with the app's name as first label; undefined without one. */
export const routeHost = (route: RouteSpec, app: string): string | undefined => route.host?.replace(/^\*/, app);

/**
 * Where a route can be reached: its plain URL on the proxy listener, or, when plain HTTP only
 * answers it with 308, the HTTPS URL the redirect names (tls.redirectPort, else the TLS
 * listener's port; left out when 443), so a user is not shown a URL that only redirects.
 */
export function routeUrl(route: RouteSpec, app: string, facts: UrlFacts): string {
  if (facts.https && redirectsToHttps(route, facts.redirect ?? false)) {
    const port = facts.redirectPort ?? facts.https.port;
    const host = routeHost(route, app) ?? urlHost(facts.https.address);
    return `https://${host}${port === 443 ? '' : `:${port}`}${route.path ?? '/'}`;
  }
  const port = facts.proxy?.port ?? 80;
  const host = routeHost(route, app) ?? (facts.proxy ? urlHost(facts.proxy.address) : '127.0.0.1');
  return `http://${host}${port === 80 ? '' : `:${port}`}${route.path ?? '/'}`;
}
