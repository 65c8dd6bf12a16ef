import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Http2SecureServer, Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { listenOn } from '../net/listen.js';
import { closeWithConnection } from '../net/queued-answer.js';
import { answerHalfClosedClients } from '../net/half-open.js';
import { probeDeadPeer } from '../net/tcp-keepalive.js';
import { expectContinue, sendContinue, UNMET_EXPECTATION, type ExpectingServer } from '../net/expect-continue.js';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { BerthError } from '../errors.js';
import { classifyFailure, isConnectionFailure, type ProxyFailure } from './failure.js';
import { sendFailure } from './error-page.js';
import { forwardHttp, ClientClosedError } from './forward-http.js';
import { forwardUpgrade, type UpgradeExchange } from './forward-upgrade.js';
import { WS_CLOSE_GRACE_MS } from './tunnels-go-away.js';
import { replayAsPlainHttp } from './plain-http-replay.js';
import { handshakeProblem, isWebSocketUpgrade } from './websocket-handshake.js';
import { clientAddressOf, upstreamRequestHeaders } from './forwarded-headers.js';
import { trailingSlashRedirect, type RouteMatch, type RouteTable } from './route-table.js';
import type { Admission, AdmitOptions, Upstream, UpstreamSource } from './upstream.js';
import { UpstreamPools } from './upstream-pools.js';
import { writeRawFailure, writeRawRedirect } from './raw-failure.js';
import type { RequestRecord } from '../store/store.js';
import { handleBerthEndpoint } from './berth-endpoints.js';
import { requestIdOf } from './request-id.js';
import { BERTH_PATH_PREFIX, sendWaitingPage } from './waiting-page.js';
import { transferCodingRefusal } from './request-framing.js';
import { normalizeRequest } from './request-target.js';
import { answerClientError, CONNECT_DETAIL, CONNECT_REFUSED, PROXY_METHODS } from './client-error.js';
import type { AppTimeouts } from '../spec/types.js';
import { DEFAULT_PROXY_TIMEOUTS, exchangeBounds, headerCheckIntervalMs, type ProxyTimeouts } from './proxy-timeouts.js';
import { capConnections, throttledCounter } from './connection-cap.js';
import { ACME_CHALLENGE_PREFIX } from '../tls/edge-policy.js';
import { adaptHttp2Request, adaptHttp2Response } from './http2-request.js';
import { Http1Front, type FrontFallback } from './front/http1-front.js';
import { splitSecureConnections } from './front/tls-split.js';
import type { FrontConnection, FrontRouter } from './front/front-connection.js';
import type { PlainRequestHead } from './front/request-head.js';
import { FastExchange, type FastExchangeOwner } from './front/fast-exchange.js';
import { newRequestId, isSaneRequestId } from './request-id.js';
import type { Http1Pool } from './http1/upstream-pool.js';
import { isIdempotentRead } from './http1/exchange.js';
import { TrustedPeers } from './trusted-peers.js';
import { AppShares, appShareOf, appShareRefusal } from './app-share.js';

export interface ProxyServerOptions {
  routes: RouteTable;
  upstreams: UpstreamSource;
  /** Peer addresses and CIDR ranges whose X-Forwarded-* headers are trusted and extended. */
  trustedProxies?: readonly string[];
  logger: Logger;
  /** Told about every finished request, for the history; must be cheap and never throw. */
  onRequestDone?: (record: RequestRecord) => void;
  /** Most header lines a request may have; more gets 431 (config `limits.requestHeaders`). Default 100. */
  maxRequestHeaders?: number;
  /** Bounds on every wait (the config's `timeouts`); unset ones take nginx-like defaults. */
  timeouts?: Partial<ProxyTimeouts>;
  /** An app's own upstream bounds (its spec's `timeouts`), asked per request; they win over `timeouts`. */
  appTimeouts?: (app: string) => AppTimeouts | undefined;
  /** Most open client connections; past it new ones get a raw 503 and are closed. Undefined: no cap. */
  maxConnections?: number;
  /**
   * Most open connections from one client address (the trusted proxies exempt); past it new ones get a
   * raw 429 and are closed. Undefined: none of its own (a cap test, a benchmark and a local reverse proxy
   * all come from one address, and HAProxy's per-source limits are opt-in too).
   */
  maxConnectionsPerClient?: number;
  /** The operator's trusted HTML for the waiting page's body (config `waitingPage.html`), asked per page so a reload applies. */
  waitingPageHtml?: () => string | undefined;
}

/**
 * What HTTPS adds at the edge (src/tls/): asked only when set, so a gateway
 * without a `tls` block runs the plain path unchanged.
 */
export interface EdgeHooks {
  /** The key authorization of a pending ACME HTTP-01 challenge, by its token; undefined: none. */
  challenge(token: string): string | undefined;
  /** The HTTPS URL a plain request to this route is sent to with 308, or undefined to serve it. */
  redirect(match: RouteMatch, target: string): string | undefined;
  /** The Strict-Transport-Security value of an app's responses over HTTPS, if it asks for one. */
  hsts(app: string): string | undefined;
}

/** Envoy's default `max_headers_count`. */
export const DEFAULT_MAX_REQUEST_HEADERS = 100;

/**
 * The proxy listener: routes each request by host and path, asks the upstream
 * source for a ready instance (which may cold-start the app), and streams the
 * exchange. The route table is swapped whole on reload; requests in flight keep
 * the table and upstream they started with.
 */
export class ProxyServer implements FrontRouter, FastExchangeOwner {
  private routes: RouteTable;
  readonly upstreams: UpstreamSource;
  private readonly trusted: TrustedPeers;
  readonly logger: Logger;
  private readonly onRequestDone?: (record: RequestRecord) => void;
  private readonly waitingPageHtml?: () => string | undefined;
  private readonly maxRequestHeaders: number;
  readonly pools: UpstreamPools;
  /** Node's HTTP server: every connection the front does not serve (see front/http1-front.ts). */
  private readonly server: Server;
  /** The plain listener: every connection goes to the front first. */
  private readonly listener: NetServer;
  /** berth's own HTTP/1.1 front, the plain listener's: serves plain requests to ready apps itself. */
  private readonly front: Http1Front;
  /** The same front for a TLS listener's HTTP/1.1 connections (serveSecure). */
  private secureFront?: Http1Front;
  /**
   * Node's HTTP/1.1 server code of each listener, taking a connection for the rest of its life:
   * where a request with an upgrade berth does not tunnel is served again as plain HTTP (handleUpgrade).
   */
  private readonly plainTake: (socket: Socket) => void;
  private secureTake?: (socket: Socket) => void;
  private readonly timeouts: ProxyTimeouts;
  private readonly appTimeouts?: (app: string) => AppTimeouts | undefined;
  /** The bounds of an exchange for an app without its own; shared, so the hot path allocates none. */
  private readonly defaultBounds: ReturnType<typeof exchangeBounds>;
  private readonly maxConnections: number;
  private readonly connections: { readonly open: number };
  private inFlight = 0;
  /** Each app's requests in flight, at most half of `maxConnections` (see app-share.ts). */
  private readonly shares: AppShares;
  /** Requests berth's own front served (the rest went through Node's server). */
  private frontServed = 0;
  private drained?: () => void;
  /** WebSocket exchanges counted in `inFlight` (held, handshaking or open); shutdown does not wait for them. */
  private upgradesInFlight = 0;
  /** Client sockets in a WebSocket exchange, with the exchange once it reached the app; closed at shutdown. */
  private readonly upgradeSockets = new Map<Duplex, UpgradeExchange | undefined>();
  private closing = false;
  /** HTTPS at the edge (challenges, redirects, HSTS); undefined without a `tls` block. */
  private edge?: EdgeHooks;

  constructor(options: ProxyServerOptions) {
    this.routes = options.routes;
    this.upstreams = options.upstreams;
    this.trusted = new TrustedPeers(options.trustedProxies ?? []);
    this.logger = options.logger;
    this.onRequestDone = options.onRequestDone;
    this.waitingPageHtml = options.waitingPageHtml;
    this.maxRequestHeaders = options.maxRequestHeaders ?? DEFAULT_MAX_REQUEST_HEADERS;
    this.timeouts = { ...DEFAULT_PROXY_TIMEOUTS, ...options.timeouts };
    this.appTimeouts = options.appTimeouts;
    this.defaultBounds = exchangeBounds(this.timeouts, undefined);
    this.pools = new UpstreamPools(this.timeouts.upstreamConnectMs);
    const headersTimeout = this.timeouts.clientHeaderMs;
    this.server = createServer(
      {
        keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
        headersTimeout,
        // No bound on a whole request: a long upload is fine as long as it moves (the body-idle timeout).
        requestTimeout: 0,
        // Node checks the header timeout on this interval; at its default of 30 s a bound of 60 s could take 90.
        connectionsCheckingInterval: headerCheckIntervalMs(headersTimeout),
        // An HTTP/1.1 request without Host is refused by berth's own check (normalizeRequest), problem+json
        // like every other error; Node's would answer first with a bare 400 and no body.
        requireHostHeader: false,
      },
      (req, res) => this.handle(req, res),
    );
    answerHalfClosedClients(this.server);
    // berth routes an upload before its client is asked for the body (see expect-continue.ts).
    expectContinue(this.server, (req, res) => this.handle(req, res), (req, res) => this.refuseExpectation(req, res));
    const server = this.server;
    this.plainTake = (socket) => server.emit('connection', socket);
    this.front = this.newFront({ take: this.plainTake, on: (event, listener) => server.on(event, listener) });
    // allowHalfOpen: a client's FIN after its request still gets the answer (see half-open.ts).
    this.listener = createNetServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.front.accept(socket));
    // Node silently keeps only maxHeadersCount headers; one more than berth's limit lets route() see the excess and refuse it.
    this.server.maxHeadersCount = this.maxRequestHeaders + 1;
    this.maxConnections = options.maxConnections ?? Infinity;
    this.shares = new AppShares(appShareOf(this.maxConnections));
    const refused = throttledCounter((count) => this.logger.warn({ refused: count, limit: this.maxConnections }, 'connection limit reached: new connections refused with 503'));
    // Every connection arrives at the front first, so the cap sits there.
    const perClient = options.maxConnectionsPerClient;
    const peerRefused = throttledCounter((count) => this.logger.warn({ refused: count, limit: perClient }, 'one client address holds limits.connectionsPerClient: its new ones refused with 429'));
    // The trusted proxies carry many clients each: they are held to the cap alone.
    const peers = perClient === undefined ? undefined : { max: perClient, exempt: (peer: string) => this.trusted.has(peer), onRefused: peerRefused };
    this.connections = capConnections(this.listener, () => this.maxConnections, refused, peers);
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.handleUpgrade(req, socket, head));
    this.server.on('clientError', (err: Error, socket: Duplex) => answerClientError(err, socket));
    // CONNECT (authority-form) is never tunnelled; without this listener Node would just drop the connection.
    this.server.on('connect', (_req: IncomingMessage, socket: Duplex) => answerClientError(CONNECT_REFUSED, socket));
  }

  setRoutes(routes: RouteTable): void {
    this.routes = routes;
  }

  setEdge(edge: EdgeHooks | undefined): void {
    this.edge = edge;
  }

  /**
   * Serves a TLS listener's requests (HTTP/2, and HTTP/1.1 by ALPN fallback)
   * the way the plain listener's are served: same routes, admission, history
   * and metrics. HTTP/2's `:authority` stands for Host; WebSockets come over
   * HTTP/1.1 (no extended CONNECT is offered), through the same upgrade path.
   * HTTP/1.1 connections reach a front of their own first, as the plain
   * listener's do (front/tls-split.ts). Call it on a fresh server.
   */
  serveSecure(server: Http2SecureServer): void {
    if (this.secureFront !== undefined) throw new Error('a proxy serves one TLS listener');
    // HTTP/1.1 over TLS goes to a front of its own (its connections are capped by the TLS listener).
    const fallback = splitSecureConnections(server, (socket) => front.accept(socket));
    const front = this.newFront(fallback);
    this.secureFront = front;
    this.secureTake = fallback.take;
    const onRequest = (req: Http2ServerRequest | IncomingMessage, res: Http2ServerResponse | ServerResponse): void => {
      if (req.httpVersionMajor === 2) {
        adaptHttp2Response(res as Http2ServerResponse);
        const problem = adaptHttp2Request(req as Http2ServerRequest);
        if (problem !== undefined) return void sendFailure(req as IncomingMessage, res as ServerResponse, { status: 400, code: 'bad_request', reason: problem });
      }
      // The compatibility API answers to what berth uses of IncomingMessage and ServerResponse.
      this.handle(req as IncomingMessage, res as ServerResponse, true);
    };
    server.on('request', onRequest);
    // The same events over HTTP/2 and over HTTP/1.1 by ALPN fallback (Node's HTTP/1.1 code emits them on this server).
    expectContinue(server as unknown as ExpectingServer, onRequest, (req, res) => {
      if (req.httpVersionMajor === 2) adaptHttp2Response(res as unknown as Http2ServerResponse);
      this.refuseExpectation(req, res);
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.handleUpgrade(req, socket, head, true));
    // CONNECT is never tunnelled, as on the plain listener: unheard, Node drops an HTTP/1.1 one
    // without a word and answers an HTTP/2 one with a bare 405.
    server.on('connect', (req: IncomingMessage | Http2ServerRequest, second: Duplex | Http2ServerResponse) => {
      if (req.httpVersionMajor < 2) return answerClientError(CONNECT_REFUSED, second as Duplex);
      const res = second as Http2ServerResponse;
      adaptHttp2Response(res);
      res.setHeader('allow', PROXY_METHODS);
      sendFailure(req as IncomingMessage, res as unknown as ServerResponse, { status: 405, code: 'method_not_allowed', reason: CONNECT_DETAIL });
    });
  }

  /**
   * An `Expect` other than 100-continue: 417 before anything is routed (RFC 9110 §10.1.1), and
   * over HTTP/1.x the connection closes after it, since whether a body follows the head is unknown.
   */
  private refuseExpectation(req: IncomingMessage, res: ServerResponse): void {
    if (req.httpVersionMajor < 2) res.setHeader('connection', 'close');
    sendFailure(req, res, { status: 417, code: 'expectation_failed', reason: UNMET_EXPECTATION });
  }

  private newFront(fallback: FrontFallback): Http1Front {
    return new Http1Front({
      router: this,
      fallback,
      maxRequestHeaders: this.maxRequestHeaders,
      headerTimeoutMs: this.timeouts.clientHeaderMs,
      keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
      sendTimeoutMs: this.timeouts.clientSendMs,
    });
  }

  /** Requests served by berth's own HTTP/1.1 front so far (the others went through Node's server). */
  get frontRequests(): number {
    return this.frontServed;
  }

  /** Open client connections (counted against `maxConnections`). */
  get openConnections(): number {
    return this.connections.open;
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    // An accept that fails (EMFILE when out of descriptors) is the listener's 'error':
    // logged, at most once a second, and the server keeps accepting.
    const acceptFailed = throttledCounter((count) => this.logger.warn({ failures: count }, 'accepting a connection failed (out of file descriptors?)'));
    const address = await listenOn(this.listener, host, port, acceptFailed);
    // Node's server never listens itself (the front hands it connections); this starts its
    // connection tracking, which enforces headersTimeout and lets close() find idle connections.
    this.server.emit('listening');
    return address;
  }

  /**
   * Stops accepting, lets HTTP requests in flight finish (up to `graceMs`), then
   * closes the rest: open WebSockets get a close frame with code 1001 (Going
   * Away) and are cut after WS_CLOSE_GRACE_MS, handshakes still under way are
   * cut. Resolves in bounded time whatever clients and apps do.
   */
  async close(graceMs = 30_000): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.listener.close(() => resolve()));
    // Not listening itself, Node's server only stops its connection checks here.
    this.server.close(() => undefined);
    // The TLS listener (src/tls/) stops accepting itself; its front's connections drain with these.
    this.front.closeIdle();
    this.secureFront?.closeIdle();
    this.server.closeIdleConnections();
    if (this.inFlight > this.upgradesInFlight) {
      await Promise.race([
        new Promise<void>((resolve) => (this.drained = resolve)),
        new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref()),
      ]);
    }
    this.front.closeAll();
    this.secureFront?.closeAll();
    this.server.closeAllConnections();
    const goingAway = [...this.upgradeSockets].map(([socket, exchange]) => (exchange ? exchange.goAway(WS_CLOSE_GRACE_MS) : Promise.resolve(socket.destroy())));
    await Promise.all(goingAway);
    for (const socket of this.upgradeSockets.keys()) socket.destroy();
    await closed;
    await this.pools.close();
  }

  /**
   * Checks and normalises the request, then routes it; handle() and
   * handleUpgrade() both start here. Answers the app's match, the request's
   * normalised host (a string) for berth's own endpoints (`/_berth/`), which
   * answer about an app only on a host that reaches it, or the failure to answer (400 for what
   * cannot be normalised or a transfer coding berth does not decode, 431 for
   * too many headers, 404 for no route).
   * `req.url` is set to the normalised path and query, so everything after
   * (berth's endpoints, the waiting page, the history) sees what was routed.
   */
  private route(req: IncomingMessage): RouteMatch | ProxyFailure | string {
    const raw = req.rawHeaders;
    if (raw.length > this.maxRequestHeaders * 2) {
      return { status: 431, code: 'too_many_headers', reason: `the request has more than ${this.maxRequestHeaders} header fields` };
    }
    const codingRefused = transferCodingRefusal(req.headers['transfer-encoding']);
    if (codingRefused !== undefined) return { status: 400, code: 'bad_request', reason: codingRefused };
    let hostCount = 0;
    for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host') hostCount++;
    // HTTP/2 names the host in `:authority`, which serveSecure copied to Host.
    if (hostCount === 0 && req.httpVersionMajor === 2 && req.headers.host !== undefined) hostCount = 1;
    const target = normalizeRequest(req.url ?? '', req.headers.host, hostCount, req.httpVersion !== '1.0');
    if ('status' in target) return { status: 400, code: 'bad_request', reason: target.reason };
    const url = target.query === '' ? target.path : target.path + target.query;
    req.url = url;
    if (target.path.startsWith(BERTH_PATH_PREFIX)) return target.host;
    return this.routes.match(target.host, url, target.authority) ?? notRouted(target.authority, url);
  }

  private handle(req: IncomingMessage, res: ServerResponse, secure = false): void {
    // A held request pipelined behind another has no socket yet: without this its 'close' never came when the
    // client went, and it kept its wait-queue place (and its activity) until the start ended. (HTTP/2 streams close alone.)
    if (req.httpVersionMajor < 2) closeWithConnection(res);
    const failed = req.httpVersionMajor < 2 ? this.takeFailedSend(req.socket as Socket) : undefined;
    const edge = this.edge;
    if (edge !== undefined && !secure && req.url!.startsWith(ACME_CHALLENGE_PREFIX)) return answerChallenge(edge, req, res);
    // Read once: the socket may be gone by the time the exchange ends (issue 9, crash 3).
    const client = clientAddressOf(req);
    const match = this.route(req);
    if (typeof match === 'string') return handleBerthEndpoint(req, res, this.upstreams, this.routes, match);
    if ('status' in match) {
      // A request berth cannot make sense of ends its connection: what follows on it is suspect too.
      // (HTTP/2 has no Connection header: its stream ends alone.)
      if (match.status !== 404 && req.httpVersionMajor < 2) res.setHeader('connection', 'close');
      sendFailure(req, res, match);
      return;
    }
    const app = match.app;
    if (edge !== undefined) {
      if (!secure) {
        const location = edge.redirect(match, req.url!);
        if (location !== undefined) {
          res.writeHead(308, { location, 'content-length': 0 });
          res.end();
          return this.recordOwnAnswer(app, req, 308, client);
        }
      } else {
        const hsts = edge.hsts(app);
        if (hsts !== undefined) res.setHeader('strict-transport-security', hsts);
      }
    }
    // Before any wake: the redirect needs no app.
    const slashed = trailingSlashRedirect(match, req.method ?? 'GET', req.url!);
    if (slashed !== undefined) {
      res.writeHead(308, { location: slashed, 'content-length': 0 });
      res.end();
      return this.recordOwnAnswer(app, req, 308, client);
    }
    if (this.shares.full(app)) {
      // Closed after the answer: a refused client must not keep a connection of the cap.
      if (req.httpVersionMajor < 2) res.setHeader('connection', 'close');
      const sent = sendFailure(req, res, appShareRefusal(app, this.shares.share), app);
      return this.recordOwnAnswer(app, req, 503, client, sent);
    }
    this.begin(app);
    const startedMs = performance.now();
    const requestId = requestIdOf(req);
    if (failed !== undefined) return this.retryAfterExit(req, res, match, failed.upstream, startedMs, requestId, client, failed.err);
    const admission = this.upstreams.admit(app, req);
    if (admission.kind === 'ready') return this.forward(req, res, match, admission.upstream, startedMs, false, requestId, client, false, admission.setCookie);
    this.answerAdmission(req, res, match, admission, startedMs, requestId, client, false);
  }

  /** The fast path's failed send of the request Node's server reads first on `socket`, taken (see failedSends). */
  private takeFailedSend(socket: Socket): { upstream: Upstream; err: Error } | undefined {
    const failed = this.failedSends.get(socket);
    if (failed !== undefined) this.failedSends.delete(socket);
    return failed;
  }

  /**
   * Every answer but an immediate ready one (not the hot path): the waiting
   * page, a failure, or a hold until the app is ready. `retried` says the
   * request was sent once already, so it is not sent a third time.
   */
  private answerAdmission(req: IncomingMessage, res: ServerResponse, match: RouteMatch, admission: Admission, startedMs: number, requestId: string, client: string, retried: boolean): void {
    const app = match.app;
    if (admission.kind === 'ready') return this.forward(req, res, match, admission.upstream, startedMs, true, requestId, client, retried, admission.setCookie);
    // Whatever answers (waiting page, failure, the app) carries the id.
    if (!res.headersSent) res.setHeader('x-request-id', requestId);
    if (admission.kind === 'page') {
      const sent = sendWaitingPage(res, { app, path: req.url, title: admission.title, message: admission.message, bodyHtml: this.waitingPageHtml?.() });
      return this.finish(req, res, app, startedMs, true, 0, sent, requestId, client);
    }
    if (admission.kind === 'fail') {
      const sent = sendFailure(req, res, classifyFailure(admission.error, res.destroyed, { app }), app);
      return this.finish(req, res, app, startedMs, true, 0, sent, requestId, client);
    }
    if (admission.kind === 'later') {
      // As for a hold below: a worker's request held by the control gives its place back when its client goes.
      if (admission.leave !== undefined) res.once('close', admission.leave);
      admission.admission.then(
        (settled) => this.answerAdmission(req, res, match, settled, startedMs, requestId, client, retried),
        (err: unknown) => {
          const sent = sendFailure(req, res, classifyFailure(err, res.destroyed, { app }), app);
          this.finish(req, res, app, startedMs, true, 0, sent, requestId, client);
        },
      );
      return;
    }
    // A client that goes while held (a closed connection, a reset HTTP/2 stream) gives its queue place back at once.
    if (admission.leave !== undefined) res.once('close', admission.leave);
    admission.ready.then(
      (chosen) => {
        if (res.destroyed) return this.finish(req, res, app, startedMs, true, 0, 0, requestId, client);
        this.forward(req, res, match, chosen.upstream, startedMs, true, requestId, client, retried, chosen.setCookie);
      },
      (err: unknown) => {
        const sent = sendFailure(req, res, classifyFailure(err, res.destroyed, { app }), app);
        this.finish(req, res, app, startedMs, true, 0, sent, requestId, client);
      },
    );
  }

  /**
   * Ends the exchange: activity accounting, then the history record. Called
   * from the upstream client's callbacks too, after the client may have gone: it reads only
   * what was captured when the request arrived, and never throws. `bytesIn` is the request
   * body bytes the app was sent (counted as they were written: Content-Length says nothing of
   * a chunked or HTTP/2 body, nor of one its client cut short), 0 when no app was asked.
   */
  private finish(req: IncomingMessage, res: ServerResponse, app: string, startedMs: number, waited: boolean, bytesIn: number, bytesOut: number, requestId: string, client: string, instance?: string): void {
    // The target as the client sent it, query string included: the history shows what was asked.
    this.record(app, req.method ?? 'GET', req.url ?? '/', res.headersSent ? res.statusCode : 0, startedMs, waited, bytesIn, bytesOut, requestId, client, instance);
  }

  /** The end of every exchange, by either path: activity, then the history record and the access log line. */
  private record(app: string, method: string, path: string, status: number, startedMs: number, waited: boolean, bytesIn: number, bytesOut: number, requestId: string, client: string, instance: string | undefined): void {
    this.end(app);
    this.report(app, method, path, status, startedMs, waited, bytesIn, bytesOut, requestId, client, instance);
  }

  /**
   * berth's own answer to a routed request that never became an exchange (a redirect, a refused
   * handshake): recorded as Traefik's access log keeps its own redirects, but no activity, since
   * the app was not asked (a crawler's redirects must not keep a stopped app's idle clock young).
   */
  private recordOwnAnswer(app: string, req: IncomingMessage, status: number, client: string, bytesOut = 0): void {
    this.report(app, req.method ?? 'GET', req.url ?? '/', status, performance.now(), false, 0, bytesOut, requestIdOf(req), client, undefined);
  }

  /** The history record and the access log line of one answered request. */
  private report(app: string, method: string, path: string, status: number, startedMs: number, waited: boolean, bytesIn: number, bytesOut: number, requestId: string, client: string, instance: string | undefined): void {
    // One `request` line per exchange at debug level (an access log); a number compare when off.
    const log = this.logger.levelVal <= DEBUG_LEVEL;
    if (!this.onRequestDone && !log) return;
    const record: RequestRecord = {
      timeMs: Date.now(),
      app,
      method,
      path,
      status,
      durationMs: Math.round((performance.now() - startedMs) * 100) / 100,
      bytesIn,
      bytesOut,
      client,
      waited,
      instance,
      requestId,
    };
    this.onRequestDone?.(record);
    // The log leaves the query string out (it may carry secrets and logs travel further than the history).
    if (log) this.logger.debug({ requestId, app, method: record.method, path: pathOnly(record.path), status: record.status, durationMs: record.durationMs, waited, instance, client: record.client }, 'request');
  }

  /**
   * The front's question (front/http1-front.ts): serves a plain request to an
   * app with a ready instance right here, or answers false having done
   * nothing, and Node's server takes the connection. Everything that is not
   * the plain, warm case (berth's endpoints, ACME challenges, redirects to
   * HTTPS, no route, an app not ready, a held app) goes the full way. Over
   * TLS (`conn.secure`) the same decisions as handle()'s for a secure request:
   * no challenge or redirect, the app's HSTS, and `https` forwarded.
   */
  serve(conn: FrontConnection, head: PlainRequestHead, headBytes: Buffer): boolean {
    const edge = this.edge;
    const secure = conn.secure;
    if (edge !== undefined && !secure && head.url.startsWith(ACME_CHALLENGE_PREFIX)) return false;
    const target = normalizeRequest(head.url, head.headers.host, 1, true);
    if ('status' in target) return false;
    if (target.path.startsWith(BERTH_PATH_PREFIX)) return false;
    const url = target.query === '' ? target.path : target.path + target.query;
    const match = this.routes.match(target.host, url, target.authority);
    if (match === undefined) return false;
    // An app at its share is refused by handle(), on the full way.
    if (this.shares.full(match.app)) return false;
    if (edge !== undefined && !secure && edge.redirect(match, url) !== undefined) return false;
    if (match.strippedPrefix !== undefined && trailingSlashRedirect(match, head.method, url) !== undefined) return false;
    head.url = url;
    // What admission and the balancers read of a request (method, url, headers) the head has.
    const admitted = this.upstreams.admitReady?.(match.app, head as unknown as IncomingMessage);
    if (admitted === undefined) return false;
    const app = match.app;
    const hsts = secure && edge !== undefined ? edge.hsts(app) : undefined;
    this.begin(app);
    const startedMs = performance.now();
    const given = head.headers['x-request-id'];
    const requestId = given !== undefined && isSaneRequestId(given) ? given : newRequestId();
    const client = conn.client;
    const headers = upstreamRequestHeaders(head, { trustedPeer: this.trusted.has(client), requestId, client, host: match.authority, encrypted: secure, prefix: match.strippedPrefix });
    const bounds = this.boundsOf(app);
    this.frontServed++;
    new FastExchange(this, conn, head, headBytes, match, admitted.upstream, admitted.setCookie, startedMs, requestId, headers, bounds, hsts).send();
    return true;
  }

  pool(origin: string, connectTimeoutMs: number): Http1Pool {
    return this.pools.get(origin, connectTimeoutMs);
  }

  done(ex: FastExchange): void {
    const upstream = ex.upstream;
    this.record(ex.match.app, ex.req.method, ex.req.url, ex.status, ex.startedMs, false, 0, ex.bytesOut, ex.requestId, ex.conn.client, upstream.instanceName ?? upstream.instanceId);
  }

  released(app: string, socket: Socket, failed: Upstream, err: Error): void {
    this.end(app);
    this.failedSends.set(socket, { upstream: failed, err });
  }

  /**
   * The fast path's requests handed to Node's server after their instance failed before any answer, by
   * socket (the request is the first Node's server reads there): served as the full path serves its own
   * failed send (see retryAfterExit), not admitted afresh, which sent them to the failed instance again.
   */
  private readonly failedSends = new WeakMap<Socket, { upstream: Upstream; err: Error }>();

  private forward(req: IncomingMessage, res: ServerResponse, match: RouteMatch, upstream: Upstream, startedMs: number, waited: boolean, requestId: string, client: string, retried = false, setCookie?: string): void {
    const headers = upstreamRequestHeaders(req, { trustedPeer: this.trusted.has(client), requestId, client, host: match.authority, prefix: match.strippedPrefix });
    // A sticky-session policy pinned this client: tell it which instance.
    if (setCookie) res.appendHeader('set-cookie', setCookie);
    upstream.inFlight++;
    const bounds = this.boundsOf(match.app);
    // The client that waits for a 100 is asked for its body once its request goes to a ready instance (a held
    // one: once the app is ready), never before: whatever berth would refuse was refused without it. berth
    // answers the Expect itself rather than forwarding it, as Envoy does by default: an app server that ignores
    // Expect (many do) would stall each upload until the client gave up waiting (curl: 1 s), and the request
    // is already on its way to the app that decides. A 100 the app sends is dropped (response-parser.ts).
    sendContinue(req);
    forwardHttp(this.pools.get(upstream.origin, bounds.connectTimeoutMs), req, res, match.upstreamPath, headers, (err, result) => {
      upstream.inFlight--;
      if (!err) {
        if (upstream.failures !== 0) upstream.failures = 0;
      } else if (isConnectionFailure(err)) {
        upstream.failures++;
      }
      if (err && !retried && isReplayable(req, res, err)) {
        // The pin (if any) named the instance that failed; the retry's own choice replaces it.
        if (setCookie) res.removeHeader('set-cookie');
        // Nothing reached the client and the request can be sent again: another instance gets it.
        const other = this.upstreams.admit(match.app, req, { exclude: upstream.instanceId });
        if (other.kind === 'ready') return this.forward(req, res, match, other.upstream, startedMs, waited, requestId, client, true, other.setCookie);
        if (this.upstreams.unreachable) return this.retryAfterExit(req, res, match, upstream, startedMs, requestId, client, err);
      }
      // The app's body bytes relayed, and the bytes of berth's own failure answer if one follows.
      let sent = result.bytesOut;
      if (err) {
        const failure = classifyFailure(err, err instanceof ClientClosedError || res.destroyed, { app: match.app, connectTimeoutMs: bounds.connectTimeoutMs, responseTimeoutMs: bounds.responseTimeoutMs });
        if (failure.status !== 0) {
          if (failure.status >= 500) this.logger.warn({ app: match.app, instance: upstream.instanceId, requestId, err: failure.reason }, 'upstream failed');
          if (!res.headersSent) {
            // berth's own answer, not the instance's: the pin named the instance that failed (as for a retry, above),
            // and the front's failure answers carry none.
            if (setCookie) res.removeHeader('set-cookie');
            res.setHeader('x-request-id', requestId);
          }
        }
        sent += sendFailure(req, res, failure, match.app);
      }
      this.finish(req, res, match.app, startedMs, waited, result.bytesIn, sent, requestId, client, upstream.instanceName ?? upstream.instanceId);
    }, requestId, bounds);
  }

  /**
   * The instance could not be reached and nothing was answered yet: if it has
   * exited by itself (its die event not seen yet), the app is woken again and
   * the request is sent once more, instead of answering 502.
   */
  private retryAfterExit(req: IncomingMessage, res: ServerResponse, match: RouteMatch, upstream: Upstream, startedMs: number, requestId: string, client: string, cause: Error): void {
    const app = match.app;
    const fail = (err: unknown) => {
      if (!res.headersSent) res.setHeader('x-request-id', requestId);
      const sent = sendFailure(req, res, classifyFailure(err, res.destroyed, { app }), app);
      this.finish(req, res, app, startedMs, true, 0, sent, requestId, client, upstream.instanceName ?? upstream.instanceId);
    };
    this.upstreams.unreachable!(app, upstream.instanceId).then(
      (gone) => {
        if (!gone) return fail(cause);
        if (res.destroyed) return this.finish(req, res, app, startedMs, true, 0, 0, requestId, client);
        // Asked afresh, as a new request would be: the activator wakes the app, holds or pages.
        this.answerAdmission(req, res, match, this.upstreams.admit(app, req), startedMs, requestId, client, true);
      },
      fail,
    );
  }

  /**
   * A WebSocket handshake. Every socket is guarded from the first moment: a
   * client that resets while its handshake is held for a cold start ends that
   * exchange only. Each `began` gets exactly one `ended`, whichever way it goes.
   */
  private handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, secure = false): void {
    // Only WebSocket is ever tunnelled; h2c, TLS/1.0 and the like are served as plain HTTP, by a
    // fresh parser that guards the socket itself (no event can fire before this synchronous hand-over).
    // The parser of the listener it came in on: the plain one's took an HTTPS request for a plain one, and
    // a route kept to HTTPS answered it with a 308 to its own URL, without its HSTS.
    if (!isWebSocketUpgrade(req.headers)) return replayAsPlainHttp(secure ? this.secureTake! : this.plainTake, req, socket, head);
    // A WebSocket may be held through a cold start, then open for ever: a client that vanishes without a FIN
    // or a reset (closed laptop, dropped network) is found by TCP keepalive, not never (net/tcp-keepalive.ts).
    probeDeadPeer(socket);
    socket.on('error', (err: Error) => {
      // The path only, as the access log: a WebSocket's token often rides in its query (a browser cannot set its headers).
      this.logger.debug({ err: err.message, url: pathOnly(req.url ?? '/') }, 'client connection failed during a WebSocket exchange');
      socket.destroy();
    });
    this.upgradeSockets.set(socket, undefined);
    socket.once('close', () => this.upgradeSockets.delete(socket));
    // Read once, now: the socket's address is gone once it closes.
    const client = clientAddressOf(req);
    const routed = this.route(req);
    if (typeof routed === 'string') return void writeRawFailure(socket, notRouted(req.headers.host, req.url ?? '/'));
    if ('status' in routed) return void writeRawFailure(socket, routed);
    const match = routed;
    const app = match.app;
    // A plain handshake is a routed plain request like any other: a route kept to HTTPS (tls.redirect, its
    // redirectHttps) answers it with handle()'s 308, never with a tunnel over plain HTTP, which it opened.
    const location = secure ? undefined : this.edge?.redirect(match, req.url!);
    if (location !== undefined) {
      writeRawRedirect(socket, location);
      return this.recordOwnAnswer(app, req, 308, client);
    }
    // Checked before anything is acquired: a malformed handshake never wakes a stopped app.
    const problem = handshakeProblem(req);
    if (problem) {
      const sent = writeRawFailure(socket, { status: 400, code: 'bad_request', reason: problem }, app, ['sec-websocket-version', '13']);
      // "A WebSocket is recorded … or the answer it got instead" (README): this one got a 400.
      return this.recordOwnAnswer(app, req, 400, client, sent);
    }
    if (this.shares.full(app)) return this.recordOwnAnswer(app, req, 503, client, writeRawFailure(socket, appShareRefusal(app, this.shares.share), app));
    this.begin(app);
    this.upgradesInFlight++;
    const startedMs = performance.now();
    const requestId = requestIdOf(req);
    // What the exchange came to, for its history record: the app's answer (101: a tunnel), or berth's own.
    let status = 0;
    let waited = false;
    let instance: string | undefined;
    let ended = false;
    // What crossed the tunnel each way (or the app's refusal's body), as Traefik logs an upgraded connection.
    let bytesIn = 0;
    let bytesOut = 0;
    // A WebSocket is a proxied request like any other: recorded (history, metrics, usage) when it ends.
    const end = () => {
      if (ended) return;
      ended = true;
      this.upgradesInFlight--;
      this.record(app, 'GET', req.url ?? '/', status, startedMs, waited, bytesIn, bytesOut, requestId, client, instance);
    };
    // A client's FIN while its handshake is held (a closed tab): WebSocket has no half-closed state and
    // nothing more can come from it, so it is gone. Cut at once, it gives its queue place back (the
    // 'close' below) and no tunnel is opened to nobody once the app is ready, which, with no 'end' left
    // to see, would stay open for as long as the app keeps its side, the app awake and counted busy.
    const endedWhileHeld = () => socket.destroy();
    socket.once('end', endedWhileHeld);
    const go = (upstream: Upstream) => {
      socket.off('end', endedWhileHeld);
      // The client gave up while the app was woken: the woken app serves the next one.
      if (socket.destroyed || socket.readableEnded) {
        socket.destroy();
        return end();
      }
      if (this.closing) {
        // A WebSocket opened while draining would only be closed again moments later.
        status = SHUTTING_DOWN.status;
        bytesOut = writeRawFailure(socket, SHUTTING_DOWN, app);
        return end();
      }
      instance = upstream.instanceName ?? upstream.instanceId;
      const headers = upstreamRequestHeaders(req, { trustedPeer: this.trusted.has(client), upgrade: true, requestId, client, host: match.authority, prefix: match.strippedPrefix });
      const bounds = this.boundsOf(app);
      // An open WebSocket is load on its instance for as long as it lives.
      upstream.inFlight++;
      // Declared first: forwardUpgrade may end the exchange (and call back below) before it returns.
      let closed = false;
      let exchange: UpgradeExchange | undefined;
      exchange = forwardUpgrade(
        socket,
        head,
        { host: upstream.host, port: upstream.port, path: match.upstreamPath, headers, connectTimeoutMs: bounds.connectTimeoutMs, answerTimeoutMs: bounds.responseTimeoutMs, stalledMs: bounds.sendMs },
        (err) => {
          const failure = classifyFailure(err, socket.destroyed, { app, connectTimeoutMs: bounds.connectTimeoutMs, responseTimeoutMs: bounds.responseTimeoutMs });
          if (failure.status !== 0) this.logger.warn({ app, instance: upstream.instanceId, requestId, err: failure.reason }, 'upstream failed');
          status = failure.status;
          bytesOut = writeRawFailure(socket, failure, app);
        },
        (answer, sentIn, sentOut) => {
          upstream.inFlight--;
          closed = true;
          // Called before forwardUpgrade returned when the exchange ended at once: then it was never added.
          if (exchange !== undefined) upstream.tunnels?.delete(exchange);
          if (answer !== 0) status = answer;
          bytesIn = sentIn;
          // Added: an app that never answered relayed nothing, and berth's own answer (above) was counted.
          bytesOut += sentOut;
          end();
        },
      );
      if (!ended && this.upgradeSockets.has(socket)) this.upgradeSockets.set(socket, exchange);
      // Its instance's drain tells it to go away (tunnels-go-away.ts).
      if (!closed) (upstream.tunnels ??= new Set()).add(exchange);
    };
    const refused = (err: unknown) => {
      socket.off('end', endedWhileHeld);
      const failure = classifyFailure(err, socket.destroyed, { app });
      status = failure.status;
      bytesOut = writeRawFailure(socket, failure, app);
      end();
    };
    const settle = (admission: Admission): void => {
      // As a plain request's record says: anything but an instance ready at once was a wait for the app.
      if (admission.kind !== 'ready') waited = true;
      switch (admission.kind) {
        case 'ready':
          return go(admission.upstream);
        case 'wait':
          // The socket that closes while held gives its queue place back at once.
          if (admission.leave !== undefined) socket.once('close', admission.leave);
          admission.ready.then((chosen) => go(chosen.upstream), refused);
          return;
        case 'later':
          if (admission.leave !== undefined) socket.once('close', admission.leave);
          admission.admission.then(settle, refused);
          return;
        case 'fail':
          return refused(admission.error);
        case 'page':
          // The source broke its word (a page is never the answer to an upgrade); the client may try again.
          return refused(new BerthError('overloaded', `app ${app} is starting`, { retryAfterS: 1 }));
      }
    };
    settle(this.upstreams.admit(app, req, UPGRADE));
  }

  /** The bounds of one exchange with `app`: its spec's own `timeouts` over the gateway's (shared when it has none). */
  private boundsOf(app: string): ReturnType<typeof exchangeBounds> {
    const own = this.appTimeouts?.(app);
    return own === undefined ? this.defaultBounds : exchangeBounds(this.timeouts, own);
  }

  private begin(app: string): void {
    this.inFlight++;
    this.shares.began(app);
    this.upstreams.began(app);
  }

  private end(app: string): void {
    this.shares.ended(app);
    this.upstreams.ended(app);
    if (--this.inFlight === this.upgradesInFlight && this.drained) this.drained();
  }
}

/** Admission options of every WebSocket handshake; shared, so asking allocates nothing. */
const UPGRADE: AdmitOptions = Object.freeze({ upgrade: true });

/** Why a WebSocket is not opened once shutdown began: a 503. */
const SHUTTING_DOWN: ProxyFailure = { status: 503, code: 'overloaded', reason: 'the gateway is shutting down' };

/** How long an idle kept-alive client connection stays open (nginx's 75 s, Node's 5 s: berth's 65 s outlives AWS ALB's 60 s). */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** pino's numeric level of `debug`. */
const DEBUG_LEVEL = 20;

/**
 * Only a request that provably did nothing may be sent again: the connection
 * failed before any answer, nothing went to the client, and the method is
 * idempotent with no body. A POST is never sent twice.
 */
function isReplayable(req: IncomingMessage, res: ServerResponse, err: Error): boolean {
  if (res.headersSent || res.destroyed || err instanceof ClientClosedError) return false;
  if (!isIdempotentRead(req.method)) return false;
  if (req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined) return false;
  return isConnectionFailure(err);
}

/** The key authorization of an HTTP-01 challenge (RFC 8555 §8.3), or 404 for a token not pending. */
function answerChallenge(edge: EdgeHooks, req: IncomingMessage, res: ServerResponse): void {
  const token = req.url!.slice(ACME_CHALLENGE_PREFIX.length).split('?', 1)[0]!;
  const answer = token === '' ? undefined : edge.challenge(token);
  res.writeHead(answer === undefined ? 404 : 200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(answer ?? '') });
  res.end(answer);
}

function notRouted(host: string | undefined, url: string): ProxyFailure {
  const path = url.split('?', 1)[0];
  return { status: 404, code: 'no_route', reason: `no app is routed at ${host ?? ''}${path}` };
}

/** The path of a request target, without its query string. */
function pathOnly(target: string): string {
  const q = target.indexOf('?');
  return q < 0 ? target : target.slice(0, q);
}
