import { createSecureServer, type Http2SecureServer, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { Server } from 'node:http';
import { listenOn } from '../net/listen.js';
import { answerHalfClosedClients } from '../net/half-open.js';
import { probeDeadPeer } from '../net/tcp-keepalive.js';
import { answerClientError } from '../proxy/client-error.js';
import { throttledCounter } from '../proxy/connection-cap.js';
import { headerCheckIntervalMs } from '../proxy/proxy-timeouts.js';
import type { ProxyServer } from '../proxy/proxy-server.js';
import { TLS_CONTEXT_OPTIONS } from './tls-policy.js';

export interface HttpsListenerOptions {
  proxy: ProxyServer;
  /** The secure context for a client's server name (SNI), or undefined: the handshake fails. */
  contextFor: (serverName: string) => SecureContext | undefined;
  logger: Logger;
  /** How long a client may take to send its request headers (the plain listener's clientHeader). */
  headersTimeoutMs: number;
  /** Most open TLS connections (the plain listener's cap, counted apart); past it new ones are closed at once. */
  maxConnections?: number;
  /** limits.requestHeaders: past it the proxy answers 431, so HTTP/2 must let one more through. */
  maxRequestHeaders: number;
  /** How long a connection with no request under way stays open (HTTP/1.1 keep-alive, an HTTP/2 session without streams). */
  idleTimeoutMs?: number;
}

/** The plain listener's keep-alive bound (proxy-server.ts): 65 s outlives AWS ALB's 60 s. */
const IDLE_TIMEOUT_MS = 65_000;

/**
 * Most streams one HTTP/2 session may have open at once (nginx's
 * http2_max_concurrent_streams is 128). Node's default is 2^32 - 1: one
 * connection, a single place under the connection cap, could send the app
 * thousands of requests at once. A client past it waits for a stream to end
 * (RFC 9113 §5.1.2), as browsers do.
 */
export const MAX_CONCURRENT_STREAMS = 128;

/**
 * Most bytes of one HTTP/2 request's header list (RFC 9113 §6.5.2: names, values
 * and 32 bytes a field), advertised in SETTINGS and enforced by Node per stream:
 * past it that stream alone is reset (ENHANCE_YOUR_CALM) and the session's other
 * streams go on. Envoy's default is 60 KiB; HTTP/1.1's bound (Node's) is 16 KiB.
 * Without it Node took any size the decoder could hold and sent it to the app, and
 * a header block past nghttp2's own cap on CONTINUATION frames (about 144 KiB
 * encoded) still ends the whole session: a client that ignores the advertised
 * bound by that much only ends its own connection.
 */
export const MAX_HEADER_LIST_BYTES = 64 * 1024;

/**
 * The TLS listener: HTTP/2 by ALPN, HTTP/1.1 for clients without it, each
 * connection's certificate picked by SNI. Requests are the proxy's own
 * (ProxyServer.serveSecure, whose front serves HTTP/1.1 the plain listener's
 * way); this only terminates TLS.
 */
export class HttpsListener {
  private readonly server: Http2SecureServer;
  private readonly sessions = new Set<ServerHttp2Session>();
  private readonly sockets = new Set<Socket>();
  /** What a name with no certificate gets: a context that can only fail the handshake, with an alert. */
  private noCertificate?: SecureContext;

  constructor(options: HttpsListenerOptions) {
    const { logger } = options;
    const idleMs = options.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
    this.server = createSecureServer({
      ...TLS_CONTEXT_OPTIONS,
      allowHTTP1: true,
      // A client that never finishes its handshake (a slowloris before any header) is held no longer than
      // one that never finishes its headers; Node's own bound is 120 s whatever clientHeader says.
      ...(options.headersTimeoutMs > 0 ? { handshakeTimeout: options.headersTimeoutMs } : {}),
      // As the plain listener: a response's last segment is not held back waiting for an ACK (Nagle).
      noDelay: true,
      SNICallback: (name, done) => {
        const context = options.contextFor(name);
        // No certificate for the name: the handshake fails (as Caddy does), instead of showing another host's. It
        // fails with a TLS alert (handshake_failure, as for a client naming no host), from a context holding no
        // certificate: an error here made Node drop the connection without a word, which clients report as a
        // network fault ("socket disconnected", ECONNRESET), not as a name this gateway has no certificate for.
        if (context === undefined) {
          logger.debug({ serverName: name.slice(0, 253) }, 'TLS handshake refused: no certificate for this name');
          return done(null, (this.noCertificate ??= createSecureContext(TLS_CONTEXT_OPTIONS)));
        }
        done(null, context);
      },
      // No extended CONNECT (RFC 8441): browsers open their WebSockets over HTTP/1.1, which berth tunnels.
      settings: { enableConnectProtocol: false, maxConcurrentStreams: MAX_CONCURRENT_STREAMS, maxHeaderListSize: MAX_HEADER_LIST_BYTES },
      // One header over the limit (plus the four pseudo-headers) reaches the proxy, which answers 431,
      // instead of Node resetting the stream at its default of 128.
      maxHeaderListPairs: options.maxRequestHeaders + 5,
    });
    // HTTP/1.1 clients (ALPN fallback) get the plain listener's header bound and keep-alive.
    const http1 = this.server as unknown as Server;
    http1.headersTimeout = options.headersTimeoutMs;
    // Read when the server starts listening (Node's setupConnectionsTracking): left at Node's 30 s, a head
    // stalled on a connection Node's server had taken from the front was cut up to 30 s past its bound.
    (http1 as { connectionsCheckingInterval?: number }).connectionsCheckingInterval = headerCheckIntervalMs(options.headersTimeoutMs);
    http1.keepAliveTimeout = idleMs;
    // As on the plain listener, no bound on a whole request: Node's default cut any HTTP/1.1 upload over TLS
    // at 5 minutes, moving or not (a stalled body has the body-idle bound).
    http1.requestTimeout = 0;
    // A client's FIN after its request still gets the answer, on Node's path as on the front's (tls-split.ts).
    answerHalfClosedClients(http1);
    // A TLS client cannot read a raw 503 as the plain listener sends one: past the cap, Node closes the connection.
    if (options.maxConnections !== undefined && Number.isFinite(options.maxConnections)) {
      const limit = options.maxConnections;
      this.server.maxConnections = limit;
      // Node drops them without a word: the operator is told, once a second at most (a flood is one line, not one per client).
      const dropped = throttledCounter((count) => logger.warn({ refused: count, limit }, 'TLS connection limit reached: new connections closed'));
      this.server.on('drop', dropped);
    }
    options.proxy.serveSecure(this.server);
    this.server.on('session', (session: ServerHttp2Session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
      closeWhenIdle(session, idleMs);
    });
    this.server.on('secureConnection', (socket: Socket) => {
      // An HTTP/2 session with a stream open is never idle-closed, and Node sends no PING: a quiet event
      // stream to a client gone without a FIN held it for ever. Probed as a WebSocket is (once per
      // connection; HTTP/1.1 ones only when an exchange needs it, see tcp-keepalive.ts).
      if ((socket as TLSSocket).alpnProtocol === 'h2') probeDeadPeer(socket);
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    // A client that fails its handshake (no SNI, an unknown name, TLS 1.0) ends its own connection only.
    this.server.on('tlsClientError', (err: Error) => logger.debug({ err: err.message }, 'TLS handshake failed'));
    this.server.on('clientError', (err: Error, socket: Socket) => answerClientError(err, socket));
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return listenOn(this.server as unknown as Server, host, port);
  }

  private closed?: Promise<void>;

  /**
   * Stops accepting: HTTP/2 sessions get GOAWAY (their open streams finish).
   * The proxy's drain then waits for requests in flight; close() cuts what is left.
   */
  stopAccepting(): void {
    this.closed ??= new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const session of this.sessions) session.close();
  }

  /** Ends every connection still open (call after the proxy's drain) and resolves once the listener is closed. */
  async close(): Promise<void> {
    this.stopAccepting();
    for (const session of this.sessions) session.destroy();
    for (const socket of this.sockets) socket.destroy();
    await this.closed;
  }
}

/**
 * Node bounds no HTTP/2 session: one that sends no request (not even its
 * preface), or whose last stream ended, would hold its connection, and its
 * place under the connection cap, for ever. It is closed (GOAWAY) once it has
 * had no stream and no traffic for `idleMs`, as an idle HTTP/1.1 connection
 * is. A session with a stream open is left alone, however quiet: a held cold
 * start or a long poll has bounds of its own.
 */
function closeWhenIdle(session: ServerHttp2Session, idleMs: number): void {
  if (idleMs <= 0) return;
  let streams = 0;
  session.on('stream', (stream: { once(event: 'close', listener: () => void): unknown }) => {
    streams++;
    stream.once('close', () => streams--);
  });
  // The timer restarts with every frame read or written; once it has fired, the next frame re-arms it.
  // The listener is added with on(), not as setTimeout's callback, which Node adds with once(): a
  // timeout while a stream was open would have left the session unbounded from then on.
  session.setTimeout(idleMs);
  session.on('timeout', () => {
    if (streams === 0 && !session.closed) session.close();
  });
}
