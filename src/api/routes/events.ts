import type { ServerResponse } from 'node:http';
import type { GatewayEvent } from '../../gateway/state-events.js';
import type { ApiContext, RouteDef } from '../route-def.js';
import { endWhenClientLeaves } from '../endless-answer.js';
import { DEFAULT_BACKLOG_BOUNDS, StreamBacklogs } from '../stream-backlog.js';

/**
 * A comment line this often keeps idle proxies and browsers from closing a quiet
 * stream, and is a write: a stream stalled behind a client that stopped taking
 * its bytes is noticed (and dropped, stream-backlog.ts) even when no event comes.
 */
export const HEARTBEAT_MS = 15_000;

/** Unsent bytes past which a subscriber is dropped (see stream-backlog.ts for the other bounds). */
export const MAX_UNREAD_EVENT_BYTES = DEFAULT_BACKLOG_BOUNDS.perStream;

/** Every event stream of this process shares one budget of unsent bytes. */
const sharedBacklogs = new StreamBacklogs();

/** Streams gateway events as server-sent events, all of them or one app's. */
export function streamEvents(ctx: ApiContext, app?: string, backlogs: StreamBacklogs = sharedBacklogs, heartbeatMs = HEARTBEAT_MS): void {
  const res: ServerResponse = ctx.res;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.write(': berth events\n\n');
  let id = 0;
  const write = (text: string) => void backlogs.write(res, text);
  let unsubscribe: () => void = () => undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  // Nothing more is written once the stream ends or closes: a write after its end is an error.
  const stop = () => {
    clearInterval(heartbeat);
    unsubscribe();
  };
  const send = (event: GatewayEvent) => {
    if (app && event.app !== app) return;
    write(`id: ${++id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    // One app's stream ends with its deletion, as `docker logs -f` ends with its container: a stream left open
    // for a name that names nothing would go on, unasked, with a new app of that name. A client that
    // reconnects (an EventSource does) gets 404, and is told the app is gone.
    if (app && event.type === 'deleted') {
      stop();
      res.end();
    }
  };
  // A newcomer first gets the current state of every app, so it needs no second call.
  for (const status of ctx.gateway.statuses()) send({ type: 'state', app: status.name, time: new Date(), status });
  unsubscribe = ctx.gateway.events.subscribe(send);
  heartbeat = setInterval(() => write(': keepalive\n\n'), heartbeatMs);
  res.on('close', stop);
  endWhenClientLeaves(res);
}

export const eventRoutes: RouteDef[] = [
  {
    method: 'GET',
    path: '/v1/events',
    operationId: 'events',
    summary: 'Server-sent events: every app state change, apply and delete, and `request` (new history records of an app, at most one a second per app)',
    tag: 'gateway',
    responses: { 200: 'An endless text/event-stream' },
    produces: 'text/event-stream',
    async handle(ctx) {
      streamEvents(ctx);
    },
  },
  {
    method: 'GET',
    path: '/v1/apps/{name}/events',
    operationId: 'appEvents',
    summary: "Server-sent events of one app's state changes; the stream ends after the app's `deleted` event",
    tag: 'apps',
    responses: { 200: 'A text/event-stream, endless while the app exists: it ends after the `deleted` event' },
    produces: 'text/event-stream',
    async handle(ctx) {
      await ctx.gateway.apps.get(ctx.params.name!);
      streamEvents(ctx, ctx.params.name);
    },
  },
];
