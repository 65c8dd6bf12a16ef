import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenOn } from '../net/listen.js';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { classifyFailure, type ProxyFailure } from './failure.js';
import { sendFailure } from './error-page.js';
import { forwardHttp, ClientClosedError } from './forward-http.js';
import { forwardUpgrade } from './forward-upgrade.js';
import { upstreamRequestHeaders } from './forwarded-headers.js';
import type { RouteMatch, RouteTable } from './route-table.js';
import type { Upstream, UpstreamSource } from './upstream.js';
import { UpstreamPools } from './upstream-pools.js';
import { writeRawFailure } from './raw-failure.js';
import type { RequestRecord } from '../store/store.js';
import { handleBerthEndpoint } from './berth-endpoints.js';
import { requestIdOf } from './request-id.js';
import { BERTH_PATH_PREFIX, isBrowserNavigation, sendWaitingPage } from './waiting-page.js';
import type { AppTimeouts } from '../spec/types.js';
import { DEFAULT_PROXY_TIMEOUTS, exchangeBounds, type ProxyTimeouts } from './proxy-timeouts.js';
import { capConnections, throttledCounter } from './connection-cap.js';

export interface ProxyServerOptions {
  routes: RouteTable;
  upstreams: UpstreamSource;
  /** Peer addresses whose X-Forwarded-* headers are trusted and extended. */
  trustedProxies?: readonly string[];
  logger: Logger;
  /** Told about every finished request, for the history; must be cheap and never throw. */
  onRequestDone?: (record: RequestRecord) => void;
  /** Bounds on every wait (the config's `timeouts`); unset ones take nginx-like defaults. */
  timeouts?: Partial<ProxyTimeouts>;
  /** An app's own upstream bounds (its spec's `timeouts`), asked per request; they win over `timeouts`. */
  appTimeouts?: (app: string) => AppTimeouts | undefined;
  /** Most open client connections; past it new ones get a raw 503 and are closed. Undefined: no cap. */
  maxConnections?: number;
}

/**
 * The proxy listener: routes each request by host and path, asks the upstream
 * source for a ready instance (which may cold-start the app), and streams the
 * exchange. The route table is swapped whole on reload; requests in flight keep
 * the table and upstream they started with.
 */
export class ProxyServer {
  private routes: RouteTable;
  private readonly upstreams: UpstreamSource;
  private readonly trusted: ReadonlySet<string>;
  private readonly logger: Logger;
  private readonly onRequestDone?: (record: RequestRecord) => void;
  readonly pools: UpstreamPools;
  private readonly server: Server;
  private readonly timeouts: ProxyTimeouts;
  private readonly appTimeouts?: (app: string) => AppTimeouts | undefined;
  /** The bounds of an exchange for an app without its own; shared, so the hot path allocates none. */
  private readonly defaultBounds: ReturnType<typeof exchangeBounds>;
  private readonly maxConnections: number;
  private readonly connections: { readonly open: number };
  private inFlight = 0;
  private drained?: () => void;

  constructor(options: ProxyServerOptions) {
    this.routes = options.routes;
    this.upstreams = options.upstreams;
    this.trusted = new Set(options.trustedProxies ?? []);
    this.logger = options.logger;
    this.onRequestDone = options.onRequestDone;
    this.timeouts = { ...DEFAULT_PROXY_TIMEOUTS, ...options.timeouts };
    this.appTimeouts = options.appTimeouts;
    this.defaultBounds = exchangeBounds(this.timeouts, undefined);
    this.pools = new UpstreamPools(this.timeouts.upstreamConnectMs);
    const headersTimeout = this.timeouts.clientHeaderMs;
    this.server = createServer(
      {
        keepAliveTimeout: 65_000,
        headersTimeout,
        // No bound on a whole request: a long upload is fine as long as it moves (the body-idle timeout).
        requestTimeout: 0,
        // Node checks the header timeout on this interval; at its default of 30 s a bound of 60 s could take 90.
        connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.round(headersTimeout / 4))),
      },
      (req, res) => this.handle(req, res),
    );
    this.maxConnections = options.maxConnections ?? Infinity;
    const refused = throttledCounter((count) => this.logger.warn({ refused: count, limit: this.maxConnections }, 'connection limit reached: new connections refused with 503'));
    this.connections = capConnections(this.server, () => this.maxConnections, refused);
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.handleUpgrade(req, socket, head));
    this.server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    });
  }

  setRoutes(routes: RouteTable): void {
    this.routes = routes;
  }

  /** Open client connections (counted against `maxConnections`). */
  get openConnections(): number {
    return this.connections.open;
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    // An accept that fails (EMFILE when out of descriptors) is the listener's 'error':
    // logged, at most once a second, and the server keeps accepting.
    const acceptFailed = throttledCounter((count) => this.logger.warn({ failures: count }, 'accepting a connection failed (out of file descriptors?)'));
    return listenOn(this.server, host, port, acceptFailed);
  }

  /** Stops accepting, lets requests in flight finish (up to `graceMs`), then closes. */
  async close(graceMs = 30_000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.inFlight > 0) {
      await Promise.race([
        new Promise<void>((resolve) => (this.drained = resolve)),
        new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref()),
      ]);
    }
    this.server.closeAllConnections();
    await closed;
    await this.pools.close();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    if (url.startsWith(BERTH_PATH_PREFIX)) return handleBerthEndpoint(req, res, this.upstreams);
    const match = this.routes.match(req.headers.host, url);
    if (!match) {
      sendFailure(req, res, notRouted(req.headers.host, url));
      return;
    }
    const app = match.app;
    this.begin(app);
    const startedMs = performance.now();
    const requestId = requestIdOf(req);
    const ready = this.upstreams.pick(app, req);
    if (ready) {
      this.forward(req, res, match, ready, startedMs, false, requestId);
      return;
    }
    // Not the hot path: whatever answers (waiting page, failure, the app) carries the id.
    res.setHeader('x-request-id', requestId);
    if (this.answeredWithPage(req, res, app)) return this.finish(req, res, app, startedMs, true, 0, requestId);
    this.upstreams.acquire(app, req).then(
      (upstream) => {
        if (res.destroyed) return this.finish(req, res, app, startedMs, true, 0, requestId);
        this.forward(req, res, match, upstream, startedMs, true, requestId);
      },
      (err: unknown) => {
        sendFailure(req, res, classifyFailure(err, res.destroyed), app);
        this.finish(req, res, app, startedMs, true, 0, requestId);
      },
    );
  }

  /** Ends the exchange: activity accounting, then the history record. */
  private finish(req: IncomingMessage, res: ServerResponse, app: string, startedMs: number, waited: boolean, bytesOut: number, requestId: string, instance?: string): void {
    this.end(app);
    // One `request` line per exchange at debug level (an access log); a number compare when off.
    const log = this.logger.levelVal <= DEBUG_LEVEL;
    if (!this.onRequestDone && !log) return;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const record: RequestRecord = {
      time: new Date(),
      app,
      method: req.method ?? 'GET',
      path: q < 0 ? url : url.slice(0, q),
      status: res.headersSent ? res.statusCode : 0,
      durationMs: Math.round((performance.now() - startedMs) * 100) / 100,
      bytesIn: Number(req.headers['content-length'] ?? 0) || 0,
      bytesOut,
      client: req.socket.remoteAddress ?? '',
      waited,
      instance,
      requestId,
    };
    this.onRequestDone?.(record);
    if (log) this.logger.debug({ requestId, app, method: record.method, path: record.path, status: record.status, durationMs: record.durationMs, waited, instance, client: record.client }, 'request');
  }

  /**
   * While the app is not ready, a browser navigation (or any GET, for apps with
   * `waiting: page`) gets the please-wait page and the start goes on without it.
   * A start that failed moments ago is shown as such instead of being retried,
   * which is what ends a reload loop on a broken app.
   */
  private answeredWithPage(req: IncomingMessage, res: ServerResponse, app: string): boolean {
    const info = this.upstreams.waiting(app);
    if (!info || info.mode === 'hold') return false;
    if (info.mode === 'page' ? req.method !== 'GET' : !isBrowserNavigation(req)) return false;
    if (info.retryAfterS !== undefined) return false; // crash-looping: the hold path answers 503 with Retry-After
    if (info.recentFailure) {
      sendFailure(req, res, { status: 502, code: 'start_failed', reason: info.recentFailure }, app);
      return true;
    }
    this.upstreams.acquire(app).catch(() => undefined);
    sendWaitingPage(res, { app, title: info.title, message: info.message });
    return true;
  }

  private forward(req: IncomingMessage, res: ServerResponse, match: RouteMatch, upstream: Upstream, startedMs: number, waited: boolean, requestId: string, retried = false): void {
    const headers = upstreamRequestHeaders(req, { trustedPeer: this.isTrusted(req), extra: ['x-request-id', requestId] });
    // A sticky-session policy pinned this client: tell it which instance.
    if (upstream.setCookie) res.appendHeader('set-cookie', upstream.setCookie);
    upstream.inFlight++;
    const own = this.appTimeouts?.(match.app);
    const bounds = own === undefined ? this.defaultBounds : exchangeBounds(this.timeouts, own);
    forwardHttp(this.pools.get(upstream.origin, bounds.connectTimeoutMs), req, res, match.upstreamPath, headers, (err, result) => {
      upstream.inFlight--;
      if (!err) {
        if (upstream.failures !== 0) upstream.failures = 0;
      } else if (isConnectionFailure(err)) {
        upstream.failures++;
      }
      if (err && !retried && isReplayable(req, res, err)) {
        // Nothing reached the client and the request can be sent again: another instance gets it.
        const other = this.upstreams.pick(match.app, req, upstream.instanceId);
        if (other) return this.forward(req, res, match, other, startedMs, waited, requestId, true);
        if (this.upstreams.unreachable) return this.retryAfterExit(req, res, match, upstream, startedMs, requestId, err);
      }
      if (err) {
        const failure = classifyFailure(err, err instanceof ClientClosedError || res.destroyed, { app: match.app, connectTimeoutMs: bounds.connectTimeoutMs, responseTimeoutMs: bounds.responseTimeoutMs });
        if (failure.status !== 0) {
          if (failure.status >= 500) this.logger.warn({ app: match.app, instance: upstream.instanceId, requestId, err: failure.reason }, 'upstream failed');
          if (!res.headersSent) res.setHeader('x-request-id', requestId);
        }
        sendFailure(req, res, failure, match.app);
      }
      this.finish(req, res, match.app, startedMs, waited, result.bytesOut, requestId, upstream.instanceId);
    }, requestId, bounds);
  }

  /**
   * The instance could not be reached and nothing was answered yet: if it has
   * exited by itself (its die event not seen yet), the app is woken again and
   * the request is sent once more, instead of answering 502.
   */
  private retryAfterExit(req: IncomingMessage, res: ServerResponse, match: RouteMatch, upstream: Upstream, startedMs: number, requestId: string, cause: Error): void {
    const app = match.app;
    const fail = (err: unknown) => {
      if (!res.headersSent) res.setHeader('x-request-id', requestId);
      sendFailure(req, res, classifyFailure(err, res.destroyed), app);
      this.finish(req, res, app, startedMs, true, 0, requestId, upstream.instanceId);
    };
    this.upstreams.unreachable!(app, upstream.instanceId).then(
      (gone) => {
        if (!gone) return fail(cause);
        if (res.destroyed) return this.finish(req, res, app, startedMs, true, 0, requestId);
        this.upstreams.acquire(app, req).then((next) => {
          if (res.destroyed) return this.finish(req, res, app, startedMs, true, 0, requestId);
          this.forward(req, res, match, next, startedMs, true, requestId, true);
        }, fail);
      },
      fail,
    );
  }

  private handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = req.url ?? '/';
    const match = this.routes.match(req.headers.host, url);
    if (!match) return writeRawFailure(socket, notRouted(req.headers.host, url));
    const app = match.app;
    this.begin(app);
    const ready = this.upstreams.pick(app, req);
    const requestId = requestIdOf(req);
    const go = (upstream: Upstream) => {
      const headers = upstreamRequestHeaders(req, { trustedPeer: this.isTrusted(req), upgrade: true, extra: ['x-request-id', requestId] });
      // An open WebSocket is load on its instance for as long as it lives.
      upstream.inFlight++;
      forwardUpgrade(
        req,
        socket,
        head,
        { host: upstream.host, port: upstream.port, path: match.upstreamPath, headers },
        () => undefined,
        (err) => writeRawFailure(socket, classifyFailure(err, false), app),
        () => {
          upstream.inFlight--;
          this.end(app);
        },
      );
    };
    if (ready) return go(ready);
    this.upstreams.acquire(app, req).then(go, (err: unknown) => {
      writeRawFailure(socket, classifyFailure(err, socket.destroyed), app);
      this.end(app);
    });
  }

  private isTrusted(req: IncomingMessage): boolean {
    return this.trusted.size > 0 && this.trusted.has(req.socket.remoteAddress ?? '');
  }

  private begin(app: string): void {
    this.inFlight++;
    this.upstreams.began(app);
  }

  private end(app: string): void {
    this.upstreams.ended(app);
    if (--this.inFlight === 0 && this.drained) this.drained();
  }
}

/** pino's numeric level of `debug`. */
const DEBUG_LEVEL = 20;

/** Connection-level failures: the upstream was refused, or closed before answering. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

/**
 * Whether a failed exchange may be sent again: nothing was answered yet, the
 * failure was the connection's, and the request is idempotent and bodiless, so
 * sending it again is safe whatever the app had seen of it.
 */
function isConnectionFailure(err: Error): boolean {
  return CONNECTION_CODES.has((err as { code?: string }).code ?? '');
}

/**
 * Only a request that provably did nothing may be sent again: the connection
 * failed before any answer, nothing went to the client, and the method is
 * idempotent with no body. A POST is never sent twice.
 */
function isReplayable(req: IncomingMessage, res: ServerResponse, err: Error): boolean {
  if (res.headersSent || res.destroyed || err instanceof ClientClosedError) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS') return false;
  if (req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined) return false;
  return CONNECTION_CODES.has((err as { code?: string }).code ?? '');
}

function notRouted(host: string | undefined, url: string): ProxyFailure {
  const path = url.split('?', 1)[0];
  return { status: 404, code: 'no_route', reason: `no app is routed at ${host ?? ''}${path}` };
}
