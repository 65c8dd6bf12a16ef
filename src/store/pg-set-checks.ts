import type pg from 'pg';
import { ConflictError } from '../errors.js';
import { dependsOnCycles } from '../spec/depends-on.js';
import { appRouteKeys } from '../spec/route-collisions.js';
import { hostPortOf } from '../spec/host-ports.js';
import type { AppSpec } from '../spec/types.js';
import { storedSpecs } from './pg-apps.js';

// What each gateway checks an apply or a delete against, its own copy of the apps, checked
// again by the PostgreSQL store under its apps lock, in the transaction that writes the
// change: two gateways changing two apps that clash, at the same moment, cannot both
// succeed; the second sees the first's row and is refused with 409 (ConflictError), its
// transaction rolled back. (A SQLite store has one gateway, whose own copy is the truth.)

/**
 * appRouteKeys' key, computed by PostgreSQL from a stored spec's JSON route `r` of app `a`.
 * Stored specs are normalized (a lower-case host, a path ending in "/": normalize.ts), as
 * routeKey's input is; lower() covers the app name a `*.` host is completed with.
 * Exported for the test that holds it equal to appRouteKeys over every route form.
 */
export const STORED_ROUTE_KEY = `lower(CASE WHEN r.value->>'host' LIKE '*.%' THEN a.name || substr(r.value->>'host', 2) ELSE coalesce(r.value->>'host', '*') END)
  || ' ' || CASE WHEN r.value->>'path' IS NULL THEN '/' WHEN right(r.value->>'path', 1) = '/' THEN r.value->>'path' ELSE (r.value->>'path') || '/' END`;

/**
 * Every clash an API apply can cause with the apps other gateways stored (routes, host ports,
 * dependencies, dependsOn cycles), refused before the batch is written.
 */
export async function refuseClashes(c: pg.PoolClient, specs: readonly AppSpec[]): Promise<void> {
  const stored = await storedSpecs(c, specs);
  await refuseClaimedRoutes(c, specs, stored);
  await refuseClaimedHostPorts(c, specs, stored);
  await refuseMissingDependencies(c, specs);
  await refuseDependencyCycles(c, specs, stored);
}

/**
 * Refuses (ConflictError, nothing written: the caller's transaction rolls back) a batch
 * claiming a route another live app in the store answers. Each gateway checks an apply
 * against its own copy of the apps first (validateAppSet, with a clear problem per field);
 * this runs under the apps lock, in the transaction that stores the batch, so two
 * gateways storing two apps that claim one route at once cannot both succeed: the second
 * sees the first's row. Only the routes a spec newly claims (not in its stored row) are
 * looked up, so an apply that keeps its routes costs no scan.
 */
export async function refuseClaimedRoutes(c: pg.PoolClient, specs: readonly AppSpec[], stored: ReadonlyMap<string, AppSpec>): Promise<void> {
  const wanted = new Map<string, string>();
  for (const spec of specs) {
    const had = new Set(stored.has(spec.name) ? appRouteKeys(stored.get(spec.name)!) : []);
    for (const key of appRouteKeys(spec)) if (!had.has(key) && !wanted.has(key)) wanted.set(key, spec.name);
  }
  if (wanted.size === 0) return;
  const exempt = specs.map((s) => s.name);
  const { rows } = await c.query<{ name: string; key: string }>(
    `SELECT a.name, ${STORED_ROUTE_KEY} AS key
     FROM apps a CROSS JOIN LATERAL jsonb_array_elements(a.spec::jsonb -> 'routes') AS r(value)
     WHERE a.deleted_at IS NULL AND NOT (a.name = ANY($1::text[])) AND ${STORED_ROUTE_KEY} = ANY($2::text[])
     ORDER BY a.name LIMIT 1`,
    [exempt, [...wanted.keys()]],
  );
  const taken = rows[0];
  if (!taken) return;
  const [host, path] = taken.key.split(' ');
  throw new ConflictError(
    `app ${wanted.get(taken.key)} claims host ${host === '*' ? 'any' : host}, path ${path}, which app ${taken.name} answers: it was stored meanwhile, through another gateway sharing this store; choose another route or delete ${taken.name} first`,
  );
}

/**
 * Refuses a batch putting an app on the host network on a port another live host-network
 * app takes (stored meanwhile through another gateway): each would be dialled for the
 * other (host-ports.ts). Looked up only for a port a spec newly takes.
 */
export async function refuseClaimedHostPorts(c: pg.PoolClient, specs: readonly AppSpec[], stored: ReadonlyMap<string, AppSpec>): Promise<void> {
  const wanted = new Map<number, string>();
  for (const spec of specs) {
    const port = hostPortOf(spec);
    if (port !== undefined && hostPortOf(stored.get(spec.name)) !== port && !wanted.has(port)) wanted.set(port, spec.name);
  }
  if (wanted.size === 0) return;
  const exempt = specs.map((s) => s.name);
  const { rows } = await c.query<{ name: string; port: number }>(
    `SELECT name, (spec::jsonb ->> 'port')::int AS port FROM apps
     WHERE deleted_at IS NULL AND NOT (name = ANY($1::text[])) AND (spec::jsonb -> 'security' ->> 'hostNetwork') = 'true'
       AND (spec::jsonb ->> 'port')::int = ANY($2::int[])
     ORDER BY name LIMIT 1`,
    [exempt, [...wanted.keys()]],
  );
  const taken = rows[0];
  if (!taken) return;
  throw new ConflictError(
    `app ${wanted.get(taken.port)} is on the host network on port ${taken.port}, which app ${taken.name} takes there: it was stored meanwhile, through another gateway sharing this store; choose another port or delete ${taken.name} first`,
  );
}

/**
 * Refuses a batch that depends on an app no longer stored (deleted meanwhile through another
 * gateway). Looked up by name: no scan.
 */
export async function refuseMissingDependencies(c: pg.PoolClient, specs: readonly AppSpec[]): Promise<void> {
  const batch = new Set(specs.map((s) => s.name));
  const needed = new Map<string, string>();
  for (const spec of specs) for (const dep of spec.dependsOn) if (!batch.has(dep) && !needed.has(dep)) needed.set(dep, spec.name);
  if (needed.size === 0) return;
  const { rows } = await c.query<{ name: string }>('SELECT name FROM apps WHERE name = ANY($1::text[]) AND deleted_at IS NULL', [[...needed.keys()]]);
  const live = new Set(rows.map((r) => r.name));
  for (const [dep, app] of needed) {
    if (!live.has(dep)) throw new ConflictError(`app ${app} depends on ${dep}, which is no longer stored: it was deleted meanwhile, through another gateway sharing this store; apply ${dep} again first`);
  }
}

/**
 * Refuses a batch whose new dependencies close a dependsOn cycle with another live app's
 * (its own dependsOn changed meanwhile through another gateway: `a → b` applied at one
 * while `b → a` was at the other; both were stored, and every later check of the whole set,
 * a config reload, was refused for the pair). Only when a spec depends on an app its stored
 * row did not: then the other live apps' dependsOn lists are read (a scan).
 */
export async function refuseDependencyCycles(c: pg.PoolClient, specs: readonly AppSpec[], stored: ReadonlyMap<string, AppSpec>): Promise<void> {
  const adds = specs.some((spec) => {
    const had = new Set(stored.get(spec.name)?.dependsOn ?? []);
    return spec.dependsOn.some((dep) => !had.has(dep));
  });
  if (!adds) return;
  const exempt = specs.map((s) => s.name);
  const { rows } = await c.query<{ name: string; deps: string[] | null }>(
    `SELECT name, spec::jsonb -> 'dependsOn' AS deps FROM apps WHERE deleted_at IS NULL AND NOT (name = ANY($1::text[])) AND jsonb_array_length(coalesce(spec::jsonb -> 'dependsOn', '[]'::jsonb)) > 0`,
    [exempt],
  );
  const batch = new Set(specs.map((s) => s.name));
  // A cycle among the other apps alone (stored before this check existed) is not this batch's to answer for.
  const loop = dependsOnCycles([...specs, ...rows.map((r) => ({ name: r.name, dependsOn: r.deps ?? [] }))]).find((l) => l.some((name) => batch.has(name)));
  if (!loop) return;
  throw new ConflictError(`dependsOn forms a cycle: ${loop.join(' → ')}; an app of it was changed meanwhile, through another gateway sharing this store; apply again without that dependency`);
}

/**
 * Refuses to delete an app another live app depends on (stored meanwhile through another
 * gateway). A scan of the stored specs (`dependsOn` is inside each), on deletes only.
 */
export async function refuseDependents(c: pg.PoolClient, name: string): Promise<void> {
  const { rows } = await c.query<{ name: string }>(
    `SELECT name FROM apps WHERE deleted_at IS NULL AND name <> $1 AND (spec::jsonb -> 'dependsOn') ? $1 ORDER BY name LIMIT 20`,
    [name],
  );
  if (rows.length === 0) return;
  const names = rows.map((r) => r.name);
  throw new ConflictError(`app ${name} is in the dependsOn of ${names.join(', ')}, stored meanwhile through another gateway sharing this store; change or delete ${names.length > 1 ? 'those apps' : 'that app'} first`);
}
