import type { Server } from 'node:http';

/**
 * A client may half-close (send FIN) right after its request and still read the
 * answer (RFC 9112 §9.6); curl with `--no-keepalive` scripts and some load
 * balancers' health checks do. Node's server aborts such a request by default.
 * `httpAllowHalfOpen` (a long-standing, untyped field of http.Server) makes it
 * answer the request, then end the connection after that last response, which is
 * what HAProxy does. Every wait after the FIN stays bounded by the server's timeouts.
 */
export function answerHalfClosedClients(server: Server): void {
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
}
