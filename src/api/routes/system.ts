import { VERSION } from '../../version.js';
import { openApiDocument } from '../openapi.js';
import type { RouteDef } from '../route-def.js';

/** The routes are passed in so the OpenAPI operation can describe all of them, itself included. */
export function systemRoutes(all: () => readonly RouteDef[]): RouteDef[] {
  return [
    {
      method: 'GET',
      path: '/v1/health',
      operationId: 'health',
      summary: "The gateway's health: the engine answers, apps by state",
      tag: 'gateway',
      responses: { 200: 'Healthy', 503: 'The Docker engine does not answer (`degraded`), or the gateway is stopping (`draining`)' },
      async handle(ctx) {
        const engine = await ctx.gateway.runtime?.ping().then(() => 'ok', (err: Error) => err.message);
        const byState: Record<string, number> = {};
        for (const s of ctx.gateway.statuses()) byState[s.state] = (byState[s.state] ?? 0) + 1;
        // Draining answers 503 whatever the engine says: a readiness probe must stop sending new traffic here.
        const status = ctx.gateway.draining ? 'draining' : engine === 'ok' ? 'ok' : 'degraded';
        return {
          status: status === 'ok' ? 200 : 503,
          body: { status, engine, version: VERSION, uptimeS: Math.round(ctx.gateway.uptimeMs / 1000), apps: byState },
        };
      },
    },
    {
      method: 'GET',
      path: '/v1/version',
      operationId: 'version',
      summary: 'berth and API versions',
      tag: 'gateway',
      responses: { 200: 'Versions' },
      async handle() {
        return { body: { version: VERSION, api: 'v1', node: process.version } };
      },
    },
    {
      method: 'GET',
      path: '/v1/openapi.json',
      operationId: 'openapi',
      summary: 'This OpenAPI document',
      tag: 'gateway',
      responses: { 200: 'OpenAPI 3.1 document' },
      async handle() {
        return { body: openApiDocument(all()) };
      },
    },
  ];
}
