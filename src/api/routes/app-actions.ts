import type { AppStatus } from '../../activator/app-status.js';
import type { Gateway } from '../../gateway/gateway.js';
import { BadRequestError } from '../../errors.js';
import { jsonObjectBody } from '../body.js';
import type { RouteDef } from '../route-def.js';

type Action = 'start' | 'stop' | 'restart';

const summaries: Record<Action, string> = {
  start: 'Start the app and wait until it is ready',
  stop: 'Stop the app after requests in flight finish (container and volume kept)',
  restart: 'Stop the app, then start it and wait until it is ready',
};

function run(gateway: Gateway, action: Action, name: string): Promise<AppStatus> {
  return gateway.apps[action](name);
}

const scaleRoute: RouteDef = {
  method: 'POST',
  path: '/v1/apps/{name}/scale',
  operationId: 'scaleApp',
  summary: 'Set how many instances run while the app is up, within scale.min..scale.max; scaling down drains first; kept across restarts until the spec changes',
  tag: 'apps',
  requestBody: { description: '{"replicas": 3}', contentTypes: ['application/json'] },
  responses: { 200: "The app's state afterwards" },
  async handle(ctx) {
    const body = jsonObjectBody(await ctx.body(), ['replicas']);
    if (typeof body.replicas !== 'number' || !Number.isInteger(body.replicas)) throw new BadRequestError('replicas: required, a whole number');
    return { body: await ctx.gateway.apps.scale(ctx.params.name!, body.replicas) };
  },
};

const lifecycleRoutes: RouteDef[] = (['start', 'stop', 'restart'] as const).map((action) => ({
  method: 'POST',
  path: `/v1/apps/{name}/${action}`,
  operationId: `${action}App`,
  summary: summaries[action],
  tag: 'apps',
  responses: { 200: "The app's state afterwards" },
  async handle(ctx) {
    return { body: await run(ctx.gateway, action, ctx.params.name!) };
  },
}));

export const appActionRoutes: RouteDef[] = [...lifecycleRoutes, scaleRoute];
