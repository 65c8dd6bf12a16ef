import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenOn } from '../net/listen.js';
import type { Logger } from 'pino';
import { BerthError, NotFoundError } from '../errors.js';
import type { Gateway } from '../gateway/gateway.js';
import { readBody } from './body.js';
import { FailureThrottle } from './failure-throttle.js';
import { sendJson, sendProblem } from './problem.js';
import type { ApiContext, RouteDef } from './route-def.js';
import { Router } from './router.js';
import type { TokenService } from './token-service.js';

export interface AdminServerOptions {
  gateway: Gateway;
  tokens: TokenService;
  routes: readonly RouteDef[];
  logger: Logger;
  /** Answers requests outside /v1/ (the dashboard); undefined: 404. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

/**
 * The admin listener: the REST API under /v1/. Every call is authenticated
 * first, before the route is even looked up, so without a token nothing about
 * the API's shape can be learned; failures from one address are slowed down.
 */
export class AdminServer {
  private readonly server: Server;
  private readonly router: Router;
  private readonly throttle = new FailureThrottle();

  constructor(private readonly options: AdminServerOptions) {
    this.router = new Router(options.routes);
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return listenOn(this.server, host, port);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Event streams and log follows never end by themselves.
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    // Prometheus' default metrics path: the same operation as /v1/metrics, token and all.
    if (url.pathname === '/metrics') url.pathname = '/v1/metrics';
    if (!url.pathname.startsWith('/v1/') && url.pathname !== '/v1' && this.options.fallback?.(req, res)) return;
    const address = req.socket.remoteAddress ?? '';
    try {
      const delay = this.throttle.delayMs(address);
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      try {
        await this.options.tokens.verify(req.headers.authorization);
      } catch (err) {
        this.throttle.failed(address);
        throw err;
      }
      this.throttle.succeeded(address);
      const found = this.router.lookup(req.method ?? 'GET', url.pathname);
      if (found.kind === 'not_found') throw new NotFoundError(`no API operation at ${req.method} ${url.pathname}`);
      if (found.kind === 'method_not_allowed') {
        sendJson(res, 405, { type: 'urn:berth:method_not_allowed', status: 405, code: 'method_not_allowed', detail: `use ${found.allowed.join(', ')}` }, { allow: found.allowed.join(', '), 'content-type': 'application/problem+json' });
        return;
      }
      let body: Buffer | undefined;
      const ctx: ApiContext = {
        req,
        res,
        params: found.params,
        query: url.searchParams,
        gateway: this.options.gateway,
        tokens: this.options.tokens,
        body: async () => (body ??= await readBody(req)),
      };
      const reply = await found.def.handle(ctx);
      if (reply) sendJson(res, reply.status ?? 200, reply.body);
    } catch (err) {
      if (!(err instanceof BerthError)) this.options.logger.error({ err, method: req.method, path: url.pathname }, 'API call failed');
      sendProblem(res, err);
    }
  }
}
