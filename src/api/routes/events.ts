import type { ServerResponse } from 'node:http';
import type { GatewayEvent } from '../../gateway/state-events.js';
import type { ApiContext, RouteDef } from '../route-def.js';

/** Keeps idle proxies and browsers from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;

/**
 * Unsent bytes past which a subscriber is dropped: a client that stops reading
 * would otherwise have every later event buffered for it, without end.
 */
export const MAX_UNREAD_EVENT_BYTES = 1024 * 1024;

/** Streams gateway events as server-sent events, all of them or one app's. */
export function streamEvents(ctx: ApiContext, app?: string): void {
  const res: ServerResponse = ctx.res;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.write(': berth events\n\n');
  let id = 0;
  const write = (text: string) => {
    if (res.destroyed) return;
    if (res.writableLength > MAX_UNREAD_EVENT_BYTES) res.destroy();
    else res.write(text);
  };
  const send = (event: GatewayEvent) => {
    if (app && event.app !== app) return;
    write(`id: ${++id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  };
  // A newcomer first gets the current state of every app, so it needs no second call.
  for (const status of ctx.gateway.statuses()) send({ type: 'state', app: status.name, time: new Date(), status });
  const unsubscribe = ctx.gateway.events.subscribe(send);
  const keepalive = setInterval(() => write(': keepalive\n\n'), KEEPALIVE_MS);
  res.on('close', () => {
    clearInterval(keepalive);
    unsubscribe();
  });
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
    summary: "Server-sent events of one app's state changes",
    tag: 'apps',
    responses: { 200: 'An endless text/event-stream' },
    produces: 'text/event-stream',
    async handle(ctx) {
      await ctx.gateway.apps.get(ctx.params.name!);
      streamEvents(ctx, ctx.params.name);
    },
  },
];
