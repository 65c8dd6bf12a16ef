import { routeUrl } from '../app-view.js';
import { parseJsonBody } from '../body.js';
import { SpecError } from '../../errors.js';
import { parseCntSpawnerBody, type AppSpec } from '../../spec/index.js';
import type { RouteDef } from '../route-def.js';

/**
 * The cntSpawner API (seed 000): `POST /v1/` with `{name, network, image,
 * labels, envs}` creates an app routed by the Traefik rule in its labels;
 * without a port it takes the one its image EXPOSEs, as Traefik did. It
 * goes through the same validation and launch policy as any apply, so it can
 * only ever start a container berth manages.
 */
export const cntSpawnerRoutes: RouteDef[] = [
  {
    method: 'POST',
    path: '/v1/',
    operationId: 'cntSpawnerCreate',
    summary: 'cntSpawner compatibility: create an app from a {name, network, image, labels, envs} body',
    tag: 'compat',
    requestBody: { description: 'The cntSpawner body; the route comes from a Traefik PathPrefix(...) or Host(...) rule label, the port from `port`, a Traefik service port label, or else the one port the image EXPOSEs (422 when it exposes none or several); `envs.IDLE` sets the idle timeout (default 1m, the minion\'s own)', contentTypes: ['application/json'] },
    responses: {
      200: 'Already there, unchanged, with the app URL',
      201: 'Created, with the app URL',
      403: 'The body asks for what the gateway\'s policy does not allow (policy_denied): each problem names its field',
    },
    async handle(ctx) {
      const spec = specOfBody(parseJsonBody(await ctx.body()));
      const [result] = await ctx.gateway.apps.apply([spec]);
      const url = routeUrl(spec.routes[0]!, spec.name, ctx.gateway.urlFacts);
      return { status: result?.action === 'created' ? 201 : 200, body: { name: spec.name, url, action: result?.action, revision: result?.revision } };
    },
  },
];

/**
 * The body as a spec; its problems are located as every request body's are
 * (`request body: envs.IDLE: …`, each problem's path the field's alone), not as
 * fields of a document called `body` (`body.envs.IDLE`).
 */
function specOfBody(body: unknown): AppSpec {
  try {
    return parseCntSpawnerBody(body);
  } catch (err) {
    if (err instanceof SpecError) throw new SpecError(err.problems, 'request body');
    throw err;
  }
}
