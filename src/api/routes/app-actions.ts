import type { AppStatus } from '../../activator/app-status.js';
import type { Gateway } from '../../gateway/gateway.js';
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

export const appActionRoutes: RouteDef[] = (['start', 'stop', 'restart'] as const).map((action) => ({
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
