import type pg from 'pg';
import { ConflictError } from '../errors.js';
import { appRouteKeys } from '../spec/route-collisions.js';
import type { AppSpec } from '../spec/types.js';

/**
 * appRouteKeys' key, computed by PostgreSQL from a stored spec's JSON route `r` of app `a`.
 * Stored specs are normalized (a lower-case host, a path ending in "/": normalize.ts), as
 * routeKey's input is; lower() covers the app name a `*.` host is completed with.
 */
const STORED_ROUTE_KEY = `lower(CASE WHEN r.value->>'host' LIKE '*.%' THEN a.name || substr(r.value->>'host', 2) ELSE coalesce(r.value->>'host', '*') END)
  || ' ' || CASE WHEN r.value->>'path' IS NULL THEN '/' WHEN right(r.value->>'path', 1) = '/' THEN r.value->>'path' ELSE (r.value->>'path') || '/' END`;

/**
 * Refuses (ConflictError, nothing written: the caller's transaction rolls back) a batch
 * claiming a route another live app in the store answers. Each gateway checks an apply
 * against its own copy of the apps first (validateAppSet, with a clear problem per field);
 * this runs under the apps lock, in the transaction that stores the batch, so two
 * gateways storing two apps that claim one route at once cannot both succeed: the second
 * sees the first's row. Only the routes a spec newly claims (not in its stored row) are
 * looked up, so an apply that keeps its routes costs no scan.
 *
 * `leaving`: apps the same transaction deletes (their routes are free), besides the batch's own.
 */
export async function refuseClaimedRoutes(c: pg.PoolClient, specs: readonly AppSpec[], stored: ReadonlyMap<string, AppSpec>, leaving: readonly string[]): Promise<void> {
  const wanted = new Map<string, string>();
  for (const spec of specs) {
    const had = new Set(stored.has(spec.name) ? appRouteKeys(stored.get(spec.name)!) : []);
    for (const key of appRouteKeys(spec)) if (!had.has(key) && !wanted.has(key)) wanted.set(key, spec.name);
  }
  if (wanted.size === 0) return;
  const exempt = [...specs.map((s) => s.name), ...leaving];
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
