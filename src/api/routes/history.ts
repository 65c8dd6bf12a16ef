import { BadRequestError } from '../../errors.js';
import type { HistoryQuery } from '../../store/store.js';
import { integerParam, timeParam } from '../query-params.js';
import type { RouteDef } from '../route-def.js';
import type { HistoryPageView, Sent } from '../wire-types.js';

export const historyRoutes: RouteDef[] = [
  {
    method: 'GET',
    path: '/v1/apps/{name}/history',
    operationId: 'appHistory',
    summary: "The app's proxied requests, newest first, with filters and paging",
    tag: 'apps',
    query: {
      since: { type: 'string', description: 'ISO time (UTC unless it gives an offset), or a duration back from now (15m, 2h, 1h30m, 1d)' },
      until: { type: 'string', description: 'ISO time (UTC unless it gives an offset), or a duration back from now' },
      status: { type: 'string', description: 'An exact status (404) or a class (5xx)' },
      limit: { type: 'integer', description: 'Page size, 1 to 1000 (default 100)' },
      cursor: { type: 'string', description: "The previous page's next cursor" },
    },
    responses: { 200: "A page of request records (path with its query string, instance = the container name), and the cursor of the next one" },
    async handle(ctx) {
      const query: HistoryQuery = {
        app: ctx.params.name!,
        since: timeParam(ctx.query, 'since'),
        until: timeParam(ctx.query, 'until'),
        status: statusFilter(ctx.query.get('status')),
        limit: integerParam(ctx.query, 'limit', 1, 1000),
        cursor: ctx.query.get('cursor') ?? undefined,
      };
      const page: Sent<HistoryPageView> = await ctx.gateway.apps.history(query);
      return { body: page };
    },
  },
];

function statusFilter(value: string | null): HistoryQuery['status'] {
  if (value === null || value === '') return undefined;
  if (/^[1-5]xx$/.test(value)) return value as `${1 | 2 | 3 | 4 | 5}xx`;
  // Three digits: Number() also read "1e2", "0x1F4" and " 500" as statuses.
  const n = /^[0-9]{3}$/.test(value) ? Number(value) : Number.NaN;
  if (n >= 100 && n <= 599) return n;
  throw new BadRequestError(`query parameter status: expected a status like 404 or a class like 5xx, got "${value}"`);
}
