import { appView, routeUrl } from '../app-view.js';
import { booleanParam, integerParam } from '../query-params.js';
import type { RouteDef } from '../route-def.js';
import { specsFromBody } from '../spec-body.js';

/** GET /v1/apps pages: this many apps unless ?limit says otherwise, and never more than MAX_PAGE. */
export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;

export const appRoutes: RouteDef[] = [
  {
    method: 'GET',
    path: '/v1/apps',
    operationId: 'listApps',
    summary: 'List the apps with their state, routes and instances, by name, a page at a time',
    tag: 'apps',
    query: {
      limit: { type: 'integer', description: `Page size, 1 to ${MAX_PAGE} (default ${DEFAULT_PAGE})` },
      cursor: { type: 'string', description: "The previous page's next cursor (opaque)" },
    },
    responses: { 200: '{apps, next}: a page of apps, by name; next is the cursor of the following page, absent on the last one' },
    async handle(ctx) {
      const limit = integerParam(ctx.query, 'limit', 1, MAX_PAGE) ?? DEFAULT_PAGE;
      const cursor = ctx.query.get('cursor');
      const page = await ctx.gateway.apps.page({ limit, cursor: cursor ? cursor : undefined });
      const apps = page.items.map((a) => appView(a, ctx.gateway.urlFacts));
      return { body: page.next === undefined ? { apps } : { apps, next: page.next } };
    },
  },
  {
    method: 'POST',
    path: '/v1/apps',
    operationId: 'applyApps',
    summary: 'Create or update apps from specs (idempotent); ?dryRun=true only shows what would change',
    tag: 'apps',
    query: { dryRun: { type: 'boolean', description: 'Validate and diff without changing anything' } },
    requestBody: { description: 'One or more app specs: YAML documents or JSON (an object or an array)', contentTypes: ['application/yaml', 'application/json'] },
    responses: {
      200: 'What happened to each app: created, updated or unchanged, with the changed fields and urls, where each of its routes is served',
      403: 'A spec asks for what the gateway\'s policy does not allow (policy_denied): each problem names its field',
      413: 'The body is larger than 1 MiB, or holds more than 500 app specs (payload_too_large): apply them in parts',
      502: 'An update was rolled back (upstream_unavailable): it is not stored, the previous revision keeps serving; the detail says why',
    },
    async handle(ctx) {
      const specs = await specsFromBody(ctx);
      const dryRun = booleanParam(ctx.query, 'dryRun');
      const results = await ctx.gateway.apps.apply(specs, { dryRun });
      // Run an app, get its URL (django_docker_engine's client.run): a client needs no second call to find it.
      const routesOf = new Map(specs.map((s) => [s.name, s.routes]));
      const facts = ctx.gateway.urlFacts;
      const withUrls = results.map((r) => ({ ...r, urls: (routesOf.get(r.name) ?? []).map((route) => routeUrl(route, r.name, facts)) }));
      return { body: { dryRun, results: withUrls } };
    },
  },
  {
    method: 'GET',
    path: '/v1/apps/{name}',
    operationId: 'getApp',
    summary: 'One app: spec, revision, state, instances, routes and URLs',
    tag: 'apps',
    responses: { 200: 'The app' },
    async handle(ctx) {
      return { body: appView(await ctx.gateway.apps.get(ctx.params.name!), ctx.gateway.urlFacts) };
    },
  },
  {
    method: 'DELETE',
    path: '/v1/apps/{name}',
    operationId: 'deleteApp',
    summary: 'Delete an app: its container is removed, its volume kept unless ?purgeVolumes=true',
    tag: 'apps',
    query: { purgeVolumes: { type: 'boolean', description: "Also remove the app's volume" } },
    responses: { 200: 'Deleted (the app stays a tombstone until its containers are gone; a restart finishes the delete)' },
    async handle(ctx) {
      const purgeVolumes = booleanParam(ctx.query, 'purgeVolumes');
      await ctx.gateway.apps.delete(ctx.params.name!, { purgeVolumes });
      return { body: { name: ctx.params.name, deleted: true, purgedVolumes: purgeVolumes } };
    },
  },
];
