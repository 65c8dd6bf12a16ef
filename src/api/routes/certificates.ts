import type { RouteDef } from '../route-def.js';

export const certificateRoutes: RouteDef[] = [
  {
    method: 'GET',
    path: '/v1/certificates',
    operationId: 'listCertificates',
    summary: "The HTTPS certificates: from files (names, expiry) and from ACME per route host (status, expiry, the CA's reason for a failed order and when it is retried)",
    tag: 'gateway',
    responses: { 200: '{https, items}: https is false without a tls block; items hold file certificates ({names, source: file, status: valid|expired|not-yet-valid, cert, notAfter, lastError: why the files on disk were refused, the certificate shown serving on}) and ACME hosts ({host, source: acme, status: valid|expired|ordering|failed|pending, notAfter, lastError, failures, retryAt})' },
    async handle(ctx) {
      return { body: { https: ctx.gateway.tlsEnabled, items: ctx.gateway.certificates() } };
    },
  },
];
