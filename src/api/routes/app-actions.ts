import type { AppStatus } from '../../activator/app-status.js';
import type { Gateway } from '../../gateway/gateway.js';
import { BadRequestError } from '../../errors.js';
import { jsonObjectBody } from '../body.js';
import type { RouteDef } from '../route-def.js';

type Action = 'start' | 'stop' | 'restart';

/** What an operation that starts the app may answer besides its state: the start failed (502) or timed out (504). */
const startFailures = {
  502: 'The start failed (start_failed): the detail says why; `GET /v1/apps/{name}` shows lastError and lastOutput',
  504: 'The app was not ready within its startTimeout (upstream_timeout)',
};

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
  responses: { 200: "The app's state afterwards", ...startFailures },
  async handle(ctx) {
    const body = jsonObjectBody(await ctx.body(), ['replicas']);
    const replicas = body.replicas;
    if (replicas === undefined) throw new BadRequestError('replicas: required, a whole number');
    // JSON reads 1e400 as Infinity: say what was sent, not that nothing was.
    if (typeof replicas !== 'number' || !Number.isInteger(replicas)) throw new BadRequestError(`replicas: must be a whole number, not ${typeof replicas === 'number' ? String(replicas) : JSON.stringify(replicas).slice(0, 40)}`);
    return { body: await ctx.gateway.apps.scale(ctx.params.name!, replicas) };
  },
};

const lifecycleRoutes: RouteDef[] = (['start', 'stop', 'restart'] as const).map((action) => ({
  method: 'POST',
  path: `/v1/apps/{name}/${action}`,
  operationId: `${action}App`,
  summary: summaries[action],
  tag: 'apps',
  // A stop answers 502 only when the engine fails it (runtime_error); a start or restart also when the start fails.
  responses: action === 'stop' ? { 200: "The app's state afterwards", 502: 'The engine failed the stop (runtime_error)' } : { 200: "The app's state afterwards", ...startFailures },
  async handle(ctx) {
    return { body: await run(ctx.gateway, action, ctx.params.name!) };
  },
}));

export const appActionRoutes: RouteDef[] = [...lifecycleRoutes, scaleRoute];
