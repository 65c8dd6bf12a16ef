import type { RouteDef } from '../route-def.js';

/** Prometheus scrapes this (also at /metrics) with `authorization: {credentials: <token>}`. */
export const metricsRoutes: RouteDef[] = [
  {
    method: 'GET',
    path: '/v1/metrics',
    operationId: 'metrics',
    summary: 'Prometheus metrics: requests, latency, cold starts, queues, instances, idle stops, container-seconds (also served at /metrics)',
    tag: 'gateway',
    responses: { 200: 'Prometheus text exposition format 0.0.4' },
    produces: 'text/plain',
    async handle(ctx) {
      const metrics = ctx.gateway.metrics;
      const text = await metrics.text();
      ctx.res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
      ctx.res.end(text);
    },
  },
];
