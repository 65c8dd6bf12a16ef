import { appView } from '../app-view.js';
import { booleanParam } from '../query-params.js';
import type { RouteDef } from '../route-def.js';
import { specsFromBody } from '../spec-body.js';

export const appRoutes: RouteDef[] = [
  {
    method: 'GET',
    path: '/v1/apps',
    operationId: 'listApps',
    summary: 'List every app with its state, routes and instances',
    tag: 'apps',
    responses: { 200: 'The apps, by name' },
    async handle(ctx) {
      const apps = await ctx.gateway.apps.list();
      return { body: { apps: apps.map((a) => appView(a, ctx.gateway.proxyAddress)) } };
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
      200: 'What happened to each app: created, updated or unchanged, with the changed fields',
      502: 'An update was rolled back (upstream_unavailable): it is not stored, the previous revision keeps serving; the detail says why',
    },
    async handle(ctx) {
      const specs = await specsFromBody(ctx);
      const dryRun = booleanParam(ctx.query, 'dryRun');
      const results = await ctx.gateway.apps.apply(specs, { dryRun });
      return { body: { dryRun, results } };
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
      return { body: appView(await ctx.gateway.apps.get(ctx.params.name!), ctx.gateway.proxyAddress) };
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
