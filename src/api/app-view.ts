import type { AddressInfo } from 'node:net';
import type { AppDetails } from '../gateway/app-service.js';
import { redactSpec } from '../spec/env-value.js';
import type { RouteSpec } from '../spec/types.js';
import type { AppView, Sent } from './wire-types.js';

/** An app as the API shows it: desired state, live state, instances, routes with URLs. */
export function appView(details: AppDetails, proxy: AddressInfo | undefined): Sent<AppView> {
  const { app, status, instances } = details;
  return {
    name: app.name,
    revision: app.revision,
    source: app.source,
    createdAt: app.createdAt,
    updatedAt: app.updatedAt,
    state: status?.state ?? 'stopped',
    status: status ?? null,
    routes: app.spec.routes.map((route) => ({ ...route, url: routeUrl(route, app.name, proxy) })),
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

/** Where a route can be reached through the proxy listener. */
export function routeUrl(route: RouteSpec, app: string, proxy: AddressInfo | undefined): string {
  const port = proxy?.port ?? 80;
  const listenHost = proxy ? (proxy.address.includes(':') ? `[${proxy.address}]` : proxy.address) : '127.0.0.1';
  const host = route.host ? route.host.replace(/^\*/, app) : listenHost;
  return `http://${host}${port === 80 ? '' : `:${port}`}${route.path ?? '/'}`;
}
