import { endWhenClientLeaves } from '../endless-answer.js';
import { integerParam, booleanParam } from '../query-params.js';
import type { RouteDef } from '../route-def.js';

export const logRoutes: RouteDef[] = [
  {
    method: 'GET',
    path: '/v1/apps/{name}/logs',
    operationId: 'appLogs',
    summary: "The app's container output (several containers: each line prefixed with its container's name); ?follow=true keeps streaming new lines",
    tag: 'apps',
    query: {
      tail: { type: 'integer', description: 'Only the last N lines' },
      follow: { type: 'boolean', description: 'Keep the stream open and send new lines as they come' },
    },
    responses: { 200: 'Log lines as text' },
    produces: 'text/plain',
    async handle(ctx) {
      const abort = new AbortController();
      const stream = await ctx.gateway.apps.logs(ctx.params.name!, {
        tail: integerParam(ctx.query, 'tail', 0, 1_000_000),
        follow: booleanParam(ctx.query, 'follow'),
        signal: abort.signal,
      });
      ctx.res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      if (ctx.req.method === 'HEAD') {
        // The head is the whole answer (the server ends it): the engine's stream, opened so that a HEAD is refused
        // as the GET would be (no such app, no engine), is closed unread. Piped, its lines came after that end and
        // Node's write-after-end error, with no listener, took the whole gateway down.
        abort.abort();
        stream.destroy();
        return;
      }
      ctx.res.flushHeaders();
      // The client leaving ends the follow, or the engine stream would run forever.
      ctx.res.on('close', () => {
        abort.abort();
        stream.destroy();
      });
      // Cut, not ended: a clean end would tell the client it has the whole log.
      stream.on('error', () => ctx.res.destroy());
      stream.pipe(ctx.res);
      if (booleanParam(ctx.query, 'follow')) endWhenClientLeaves(ctx.res);
    },
  },
];
