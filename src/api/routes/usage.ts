import { BerthError } from '../../errors.js';
import { timeParam } from '../query-params.js';
import type { RouteDef } from '../route-def.js';

/** Used when `since` is not given. */
const DEFAULT_SINCE_MS = 7 * 86_400_000;

export const usageRoutes: RouteDef[] = [
  {
    method: 'GET',
    path: '/v1/usage',
    operationId: 'usage',
    summary: 'Container-seconds running, paused and idle per app and UTC day, requests, and the saving against running always on',
    tag: 'gateway',
    query: {
      since: { type: 'string', description: 'From the UTC day of this ISO time or duration back from now (15m, 2h, 7d); default 7d' },
      app: { type: 'string', description: 'Only this app (deleted apps keep their figures)' },
    },
    responses: { 200: 'Rows per app per day, totals per app and over all, each with alwaysOnSeconds, savingSeconds and savingPercent' },
    async handle(ctx) {
      const accountant = ctx.gateway.accountant;
      if (!accountant) throw new BerthError('overloaded', 'the gateway is starting or stopping; usage cannot be read now');
      const since = timeParam(ctx.query, 'since') ?? new Date(Date.now() - DEFAULT_SINCE_MS);
      const app = ctx.query.get('app') || undefined;
      return { body: await accountant.usage({ since, app }) };
    },
  },
];
