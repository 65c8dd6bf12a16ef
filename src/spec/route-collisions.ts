/**
 * Routes of different apps that would answer the same requests. Wildcard hosts are
 * compared by what they serve: `*.apps.example.com` on app "hello" serves only
 * `hello.apps.example.com`, so many apps can share one wildcard (that is its purpose)
 * but an app's exact host may not be another app's wildcard host.
 */
import type { SpecIssue } from './path.js';
import { routeKey } from './route-key.js';
import type { AppSpec, RouteSpec } from './types.js';

/** The host a route actually answers for, with the app name put into a wildcard. */
export function effectiveHost(route: RouteSpec, appName: string): string | undefined {
  return route.host?.startsWith('*.') ? appName + route.host.slice(1) : route.host;
}

/** The routes an app claims, as routeKey writes them, its wildcard hosts made its own: what two apps may not share. */
export function appRouteKeys(spec: AppSpec): string[] {
  return spec.routes.map((route) => routeKey({ host: effectiveHost(route, spec.name), path: route.path }));
}

function describe(route: RouteSpec, host: string | undefined): string {
  const from = route.host !== host ? ` (from ${route.host})` : '';
  return `host ${host ?? 'any'}${from}, path ${route.path ?? '/'}`;
}

export function routeCollisions(specs: readonly AppSpec[]): SpecIssue[] {
  const owners = new Map<string, { app: number; route: number }>();
  const issues: SpecIssue[] = [];
  specs.forEach((spec, app) => {
    spec.routes.forEach((route, index) => {
      const host = effectiveHost(route, spec.name);
      const key = routeKey({ host, path: route.path });
      const owner = owners.get(key);
      if (owner === undefined) owners.set(key, { app, route: index });
      else {
        const other = specs[owner.app]!.name;
        // Within one app the schema already refused it; same-named apps are reported as duplicates.
        if (other === spec.name) return;
        issues.push({
          path: ['apps', app, 'routes', index],
          message: `app "${spec.name}" has the same route (${describe(route, host)}) as app "${other}" (its routes[${owner.route}])`,
        });
      }
    });
  });
  return issues;
}
