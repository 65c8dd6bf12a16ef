import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { listenOn } from '../net/listen.js';
import { answerHalfClosedClients } from '../net/half-open.js';
import { expectContinue, UNMET_EXPECTATION } from '../net/expect-continue.js';
import { answerClientError, CONNECT_REFUSED } from '../proxy/client-error.js';
import { capConnections, throttledCounter } from '../proxy/connection-cap.js';
import type { Logger } from 'pino';
import { BadRequestError, BerthError, ClientClosedError, NotFoundError, ShuttingDownError, UnauthorizedError } from '../errors.js';
import type { Gateway } from '../gateway/gateway.js';
import { readBody, UNTAKEN_BODY_BYTES, untakenBodyProblem } from './body.js';
import { contentEncodingProblem, contentTypeProblem } from './content-type.js';
import { adminHostAllowed, hostNameOf, isWildcardAddress } from './admin-host.js';
import { FailureThrottle } from './failure-throttle.js';
import { OpenAnswers } from './open-answers.js';
import { closeWithConnection } from '../net/queued-answer.js';
import { problemFor, sendJson, sendProblem, writeProblem } from './problem.js';
import { queryProblem } from './query-params.js';
import { parseAdminTarget } from './request-target.js';
import type { ApiContext, RouteDef } from './route-def.js';
import { Router } from './router.js';
import type { Principal, TokenService } from './token-service.js';
import { queryRedactor } from '../store/query-redaction.js';
import { MAX_ADMIN_CONNECTIONS } from '../net/fd-limit.js';

export interface AdminServerOptions {
  gateway: Gateway;
  tokens: TokenService;
  routes: readonly RouteDef[];
  logger: Logger;
  /** Answers requests outside /v1/ (the dashboard); undefined: 404. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /**
   * The host names this listener answers to (see admin-host.ts); read per request,
   * so a reload's adminHosts count. Others get 421 before anything else is looked at.
   */
  allowedHosts: () => ReadonlySet<string>;
  /** The bind address, named in the 421 detail when it is a wildcard. */
  bindHost: string;
  /** Tests inject a throttle with their own clock. */
  throttle?: FailureThrottle;
  /**
   * Most client connections open at once; default MAX_ADMIN_CONNECTIONS. The gateway
   * passes defaultAdminConnectionCap of its open-file limit, so a flood of idle
   * connections here cannot starve the proxy and the engine calls of descriptors.
   */
  maxConnections?: number;
  /** How often open streams' tokens are asked of the store again; default TOKEN_RECHECK_MS (tests: shorter). */
  tokenRecheckMs?: number;
}

/**
 * The admin listener: the REST API under /v1/. Every call is authenticated
 * first, before the route is even looked up, so without a token nothing about
 * the API's shape can be learned; past a few failures from one address, its
 * further failures get 429 (a valid token is always answered, and clears the count). Only requests
 * whose Host names this listener are answered at all (DNS rebinding).
 */
export class AdminServer {
  private readonly server: Server;
  private readonly router: Router;
  private readonly throttle: FailureThrottle;

  constructor(private readonly options: AdminServerOptions) {
    this.router = new Router(options.routes);
    this.throttle = options.throttle ?? new FailureThrottle();
    // A missing Host on HTTP/1.1 is refused by adminHostHeaderProblem, problem+json like every other
    // error; Node's own check would answer first with a bare 400 and no body.
    this.server = createServer({ requireHostHeader: false }, (req, res) => this.serve(req, res));
    answerHalfClosedClients(this.server);
    // An upload's client is asked for its body only once it is to be read (readBody), after the Host, the
    // token, the route and its Content-Length were checked: a refused one never sends it (see expect-continue.ts).
    expectContinue(this.server, (req, res) => this.serve(req, res), (_req, res) => {
      res.setHeader('connection', 'close');
      writeProblem(res, problemFor('expectation_failed', UNMET_EXPECTATION));
    });
    // A request Node's parser refuses (a head past its size limit: a very long token) is answered
    // problem+json like every other error, not with Node's bare status line.
    this.server.on('clientError', (err: Error, socket: Duplex) => answerClientError(err, socket));
    // CONNECT is no operation here; without this listener Node drops the connection without a word.
    const methods = apiMethods(options.routes);
    this.server.on('connect', (_req: IncomingMessage, socket: Duplex) => answerClientError(CONNECT_REFUSED, socket, methods));
    const max = options.maxConnections ?? MAX_ADMIN_CONNECTIONS;
    capConnections(this.server, () => max, throttledCounter((count) => options.logger.warn({ count, max }, 'admin connections refused: too many open')));
    this.open = new OpenAnswers((authorization) => options.tokens.verify(authorization), options.tokenRecheckMs);
    this.stopRevocations = options.tokens.onRevoked((idOrName) => this.open.endOf(idOrName));
  }

  /** Answers under way (event streams and log follows never end by themselves), by who asked. */
  private readonly open: OpenAnswers;
  private readonly stopRevocations: () => void;

  listen(host: string, port: number): Promise<AddressInfo> {
    this.open.start();
    return listenOn(this.server, host, port);
  }

  async close(): Promise<void> {
    this.stopRevocations();
    this.open.stop();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Event streams and log follows never end by themselves.
    this.server.closeAllConnections();
    await closed;
  }

  /**
   * handle() must never reject: its promise has no other owner. What escapes it is
   * a bug, logged once and answered 500, or, once the answer has started, ended
   * by destroying the connection (a half-sent body must not look complete).
   */
  private serve(req: IncomingMessage, res: ServerResponse): void {
    this.handle(req, res).catch((err: unknown) => {
      // The target as the history keeps it: a token or key in the query stays out of the log.
      this.options.logger.error({ err, method: req.method, url: loggedTarget(req.url ?? '/').slice(0, 200) }, 'admin request failed unexpectedly');
      try {
        if (res.headersSent) res.destroy();
        else sendProblem(res, err);
      } catch {
        res.destroy();
      }
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // What lets go of an answer on 'close' must get it for a pipelined answer whose connection goes first.
    closeWithConnection(res);
    const target = parseAdminTarget(req.url ?? '/');
    if (!target.ok) {
      sendEdgeProblem(res, 'bad_request', target.message);
      return;
    }
    // Host must be there once and well formed (RFC 9112 §3.2) before it is compared with the names served.
    const hostProblem = adminHostHeaderProblem(req) ?? repeatedHeaderProblem(req);
    if (hostProblem) {
      sendEdgeProblem(res, 'bad_request', hostProblem);
      return;
    }
    // An absolute-form target's authority stands for Host (RFC 9112 §3.2.2), so both must pass.
    const hostHeader = req.headers.host;
    const allowed = this.options.allowedHosts();
    if (!adminHostAllowed(hostHeader, allowed) || (target.authority !== undefined && !adminHostAllowed(target.authority, allowed))) {
      sendEdgeProblem(res, 'misdirected_request', this.misdirectedDetail());
      return;
    }
    // Prometheus' default metrics path: the same operation as /v1/metrics, token and all.
    const path = target.path === '/metrics' ? '/v1/metrics' : target.path;
    if (!path.startsWith('/v1/') && path !== '/v1' && this.options.fallback?.(req, res)) return;
    const address = req.socket.remoteAddress ?? '';
    try {
      let principal: Principal;
      try {
        principal = await this.options.tokens.verify(req.headers.authorization);
      } catch (err) {
        if (!(err instanceof UnauthorizedError)) throw err;
        const retryAfterS = this.throttle.failed(address);
        if (retryAfterS > 0) {
          sendEdgeProblem(res, 'too_many_requests', `too many failed authentications from this address; retry in ${retryAfterS}s with a valid token`, { retryAfterS });
          return;
        }
        throw err;
      }
      this.throttle.succeeded(address);
      this.open.add(res, principal, req.headers.authorization);
      // A stream's write that lands after its answer ended (an event in the moment between a HEAD's end and its
      // close) is an 'error' on the response; with no listener, Node throws it and the whole gateway exits.
      res.on('error', (err) => this.options.logger.debug({ err, method: req.method, path }, 'API answer failed after it ended'));
      // HEAD is GET without the body (RFC 9110 §9.3.2): Node leaves the body out of the answer itself.
      const head = req.method === 'HEAD';
      const found = this.router.lookup(head ? 'GET' : (req.method ?? 'GET'), path);
      if (found.kind === 'not_found') throw new NotFoundError(`no API operation at ${req.method} ${path}${this.nearPath(path)}`);
      if (found.kind === 'method_not_allowed') {
        const allowed = found.allowed.includes('GET') ? [...found.allowed, 'HEAD'] : found.allowed;
        writeProblem(res, problemFor('method_not_allowed', `${req.method} is not an operation here; use ${allowed.join(', ')}`), { allow: allowed.join(', ') });
        return;
      }
      // Reads only while the gateway drains: a change accepted now would race the store and the activator closing.
      if (found.def.method !== 'GET' && this.options.gateway.draining) throw new ShuttingDownError();
      const queryWrong = queryProblem(target.query, found.def);
      if (queryWrong) throw new BadRequestError(queryWrong);
      // A body of a type a browser may send from any page unasked (text/plain, a form) is never read as a command.
      const typeWrong = found.def.method === 'GET' ? undefined : contentTypeProblem(req.headers['content-type'], found.def.requestBody?.contentTypes);
      if (typeWrong) throw new BerthError('unsupported_media_type', typeWrong);
      const encodingWrong = found.def.method === 'GET' ? undefined : contentEncodingProblem(req.headers['content-encoding']);
      if (encodingWrong) throw new BerthError('unsupported_media_type', encodingWrong);
      if (!found.def.requestBody && found.def.method !== 'GET') {
        const untaken = untakenBodyProblem(await readBody(req, UNTAKEN_BODY_BYTES), found.def);
        if (untaken) throw new BadRequestError(untaken);
      }
      let body: Buffer | undefined;
      const ctx: ApiContext = {
        req,
        res,
        params: found.params,
        query: target.query,
        gateway: this.options.gateway,
        tokens: this.options.tokens,
        body: async () => (body ??= await readBody(req)),
      };
      const reply = await found.def.handle(ctx);
      if (reply) sendJson(res, reply.status ?? 200, reply.body);
      // A stream's head is all a HEAD gets: ended here, its close ends what feeds it (events, a log follow).
      else if (head && !res.writableEnded) res.end();
    } catch (err) {
      if (err instanceof ClientClosedError) {
        // Nobody is left to read an answer, so none is written.
        this.options.logger.debug({ code: err.code, method: req.method, path }, 'API client left before its answer');
        return;
      }
      if (!(err instanceof BerthError)) this.options.logger.error({ err, method: req.method, path }, 'API call failed');
      // A 401 must name the scheme that would be taken (RFC 9110 §11.6.1); clients and proxies key on it.
      sendProblem(res, err, err instanceof UnauthorizedError ? { 'www-authenticate': WWW_AUTHENTICATE } : {});
    }
  }

  /** A hint for a path that misses only by a trailing slash (or lacks one), or ''. */
  private nearPath(path: string): string {
    const other = path.endsWith('/') ? path.slice(0, -1) : `${path}/`;
    const found = other === '' ? undefined : this.router.lookup('GET', other);
    return found && found.kind !== 'not_found' ? ` (did you mean ${other}?)` : '';
  }

  private misdirectedDetail(): string {
    const base = 'this listener answers only to its own host names (loopback names, its bind address, and the config\'s adminHosts)';
    return isWildcardAddress(this.options.bindHost)
      ? `${base}; it binds to ${this.options.bindHost}, so list the names clients use to reach it in adminHosts`
      : base;
  }
}

/** Every method of the API, as an `Allow` value (HEAD wherever GET is). Pure. */
export function apiMethods(routes: readonly RouteDef[]): string {
  const methods = new Set<string>(routes.map((r) => r.method));
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].join(', ');
}

/** Why the request's Host header(s) cannot be taken at all, or undefined: one Host, well formed (HTTP/1.0 may omit it). */
function adminHostHeaderProblem(req: IncomingMessage): string | undefined {
  let count = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host') count++;
  if (count > 1) return 'more than one Host header';
  if (count === 0) return req.httpVersion === '1.0' ? undefined : 'no Host header (HTTP/1.1 requires one)';
  return hostNameOf(req.headers.host ?? '') === undefined ? 'the Host header is malformed' : undefined;
}

/** Headers berth reads once: Node keeps the first of several and drops the rest, which must not decide anything unseen. */
const SINGLE_HEADERS = ['authorization', 'content-type'];

/** A request target as logged: the built-in sensitive query values replaced (the log travels further than the history). */
const loggedTarget = queryRedactor();

/** Which of SINGLE_HEADERS the request repeats, as a problem, or undefined. */
function repeatedHeaderProblem(req: IncomingMessage): string | undefined {
  const seen = new Set<string>();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (!SINGLE_HEADERS.includes(name)) continue;
    if (seen.has(name)) return `more than one ${name} header`;
    seen.add(name);
  }
  return undefined;
}

/** The challenge of every 401: a Bearer token, never a cookie or a query parameter. */
export const WWW_AUTHENTICATE = 'Bearer realm="berth admin API"';

/** Answers of the listener itself, before any API code runs; problem+json like every API error. */
function sendEdgeProblem(res: ServerResponse, code: 'bad_request' | 'misdirected_request' | 'too_many_requests', detail: string, extras: { retryAfterS?: number } = {}): void {
  writeProblem(res, problemFor(code, detail, extras));
}
