import { ERROR_CATALOGUE } from '../errors.js';
import { VERSION } from '../version.js';
import type { RouteDef } from './route-def.js';

const problem = { description: 'Problem details (RFC 9457) with berth\'s stable `code`', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };

/**
 * The OpenAPI 3.1 document of the admin API, generated from the route table
 * the server dispatches on, so the two cannot disagree.
 */
export function openApiDocument(routes: readonly RouteDef[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    for (const [name, doc] of Object.entries(route.query ?? {})) params.push({ name, in: 'query', required: false, schema: { type: doc.type }, description: doc.description } as never);
    const responses: Record<string, unknown> = {};
    for (const [status, description] of Object.entries(route.responses)) {
      responses[status] = { description, content: { [route.produces ?? 'application/json']: {} } };
    }
    // 429: an address past its failed authentications (failure-throttle.ts), whatever it asked; 421: a Host the admin
    // listener does not answer to (admin-host.ts), before authentication; 500: the store or berth itself failed.
    Object.assign(responses, { 400: problem, 401: problem, 404: problem, 409: problem, 421: problem, 422: problem, 429: problem, 500: problem, 503: problem });
    const operation: Record<string, unknown> = { operationId: route.operationId, summary: route.summary, tags: [route.tag], parameters: params, responses };
    // A body of a type the operation does not read (a form, text/plain) is refused (content-type.ts), one past its size too (body.ts).
    if (route.method !== 'GET') Object.assign(responses, { 413: problem, 415: problem });
    if (route.requestBody) {
      operation.requestBody = { required: true, description: route.requestBody.description, content: Object.fromEntries(route.requestBody.contentTypes.map((t) => [t, {}])) };
    }
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'berth admin API', version: VERSION, description: 'Manage the apps of a berth gateway. Every call needs Authorization: Bearer <token>.' },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'code', 'detail'],
          description: 'Every error answer. Answers that can succeed later carry a Retry-After header (overloaded, engine_unavailable, too_many_requests).',
          properties: {
            type: { type: 'string', description: '`urn:berth:<code>`' },
            title: { type: 'string', description: "The code's title in the catalogue" },
            status: { type: 'integer' },
            code: { type: 'string', enum: Object.keys(ERROR_CATALOGUE), description: 'Stable; the status and the CLI exit code follow from it' },
            detail: { type: 'string' },
            app: { type: 'string', description: 'The app concerned, on the proxy listener' },
            problems: {
              type: 'array',
              items: { type: 'object', properties: { path: { type: 'string', description: 'Where: `routes[0].path`, or prefixed by its origin (`apps/web.yaml, document 2: routes[0].path`, `request body: env.X`)' }, message: { type: 'string' } } },
            },
          },
        },
      },
    },
  };
}
