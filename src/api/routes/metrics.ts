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
      // Written chunk by chunk: the joined text would be one 18-30 MB string with 10,000 apps.
      const chunks = await metrics.chunks();
      let length = 0;
      for (const chunk of chunks) length += Buffer.byteLength(chunk);
      ctx.res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store', 'content-length': length });
      for (const chunk of chunks) ctx.res.write(chunk);
      ctx.res.end();
    },
  },
];
