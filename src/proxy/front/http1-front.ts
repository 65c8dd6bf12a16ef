import type { Socket } from 'node:net';
import { FrontConnection, HEADER_TIMEOUT_RESPONSE, endAndLinger, type FrontOwner, type FrontRouter } from './front-connection.js';

export interface FrontOptions {
  router: FrontRouter;
  /** Node's HTTP server, given every connection the front does not serve to the end. */
  fallback: FrontFallback;
  maxRequestHeaders: number;
  /** A request head must be complete this long after it was awaited (Node's headersTimeout). */
  headerTimeoutMs: number;
  /** An idle kept-alive connection is closed after this (Node's keepAliveTimeout). */
  keepAliveTimeoutMs: number;
  /**
   * An ended connection whose client has not taken the last bytes written to it this long after
   * is cut (the send bound); 0: only at shutdown.
   */
  sendTimeoutMs: number;
}

/** Node's server behind a front: the plain listener's http.Server, or the TLS listener's (see tls-split.ts). */
export interface FrontFallback {
  /** Takes a connection for the rest of its life, its unread bytes put back in front. */
  take(socket: Socket): void;
  /** A head Node's server completed (a request, or an upgrade): its bound is Node's from then on. */
  on(event: 'request' | 'upgrade' | 'checkContinue' | 'checkExpectation', listener: (req: { socket: unknown }) => void): unknown;
}

/** The sweep's period: bounds are kept to within a quarter second. */
const TICK_MS = 250;

/**
 * berth's own HTTP/1.1 front for a listener (the plain one, and HTTP/1.1 over
 * TLS once the handshake is done; see tls-split.ts): the proxy's hot path
 * without Node's HTTP server objects (IncomingMessage, ServerResponse,
 * their streams and timers). A plain request (request-head.ts) to an app with
 * a ready instance is parsed, forwarded and answered on the socket here; any
 * other connection (a request it does not recognise, one for an app that is
 * not ready, berth's own endpoints, WebSockets, bodies) is handed to Node's
 * HTTP server, which serves it exactly as before. So the front adds speed,
 * never behaviour: where it is unsure, Node decides.
 *
 * Timeouts are counted by one 250 ms sweep over the connections, never by a
 * timer per request.
 */
export class Http1Front implements FrontOwner {
  readonly router: FrontRouter;
  readonly maxRequestHeaders: number;
  tick = 1;
  closing = false;
  /** The HTTP date of this second (for responses without one). */
  date = new Date().toUTCString();
  private readonly connections = new Set<FrontConnection>();
  /**
   * Ended connections with bytes still queued for a client that is not reading, by the tick they
   * ended: nothing else watches them any more, and a FIN behind unread bytes never goes out.
   */
  private readonly lingering = new Map<Socket, number>();
  /**
   * Sockets handed to Node's server in the middle of a head, by the tick that head began: Node
   * counts its header bound from the hand-off, so a slowloris that turned a plain-looking head
   * into another one at the last moment would get the bound twice. The first head Node completes
   * takes a socket off; past the bound it gets the 408 Node would have sent.
   */
  private readonly handedMidHead = new Map<Socket, number>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly options: FrontOptions) {
    this.router = options.router;
    this.maxRequestHeaders = options.maxRequestHeaders;
    const headDone = (req: { socket: unknown }) => {
      if (this.handedMidHead.size > 0) this.handedMidHead.delete(req.socket as Socket);
    };
    options.fallback.on('request', headDone);
    options.fallback.on('upgrade', headDone);
    // A head with an Expect is emitted as one of these instead of 'request' (see expect-continue.ts).
    options.fallback.on('checkContinue', headDone);
    options.fallback.on('checkExpectation', headDone);
  }

  /** Connections the front itself is serving (not counting those Node's server has). */
  get size(): number {
    return this.connections.size;
  }

  /**
   * Serves a new client connection. Its socket must allow half-open (a client's FIN after its
   * request still gets the answer, see half-open.ts) and have read nothing yet.
   */
  accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.connections.add(new FrontConnection(socket, this));
    this.sweepOn();
  }

  private sweepOn(): void {
    if (this.sweeper === undefined) {
      this.date = new Date().toUTCString();
      this.sweeper = setInterval(() => this.sweep(), TICK_MS).unref();
    }
  }

  handOff(socket: Socket, headSince?: number): void {
    if (headSince !== undefined && this.options.headerTimeoutMs > 0 && !socket.destroyed) {
      this.handedMidHead.set(socket, headSince);
      socket.once('close', () => this.handedMidHead.delete(socket));
      this.sweepOn();
    }
    this.options.fallback.take(socket);
  }

  forget(conn: FrontConnection): void {
    this.connections.delete(conn);
  }

  linger(socket: Socket): void {
    if (socket.destroyed || socket.writableLength === 0) return;
    this.lingering.set(socket, this.tick);
    socket.once('close', () => this.lingering.delete(socket));
    this.sweepOn();
  }

  /** Ends every connection waiting for a request; the busy ones end after their response. */
  closeIdle(): void {
    this.closing = true;
    for (const conn of this.connections) if (!conn.busy) conn.end();
  }

  /** Cuts every connection still here. */
  closeAll(): void {
    this.closing = true;
    for (const conn of [...this.connections]) conn.destroy();
    for (const socket of [...this.lingering.keys()]) socket.destroy();
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private sweep(): void {
    this.tick++;
    if ((this.tick & 3) === 0) this.date = new Date().toUTCString();
    const headerTicks = Math.ceil(this.options.headerTimeoutMs / TICK_MS);
    const idleTicks = Math.ceil(this.options.keepAliveTimeoutMs / TICK_MS);
    for (const conn of this.connections) {
      const waited = this.tick - conn.since;
      if (conn.busy) {
        // A client that reads nothing of its response for the send bound is cut; the exchange is aborted.
        // So is a client that sent its FIN, when its begun response stays silent that long (quietAfterFin).
        if (conn.sendTimeoutMs > 0) {
          const sendTicks = Math.ceil(conn.sendTimeoutMs / TICK_MS);
          if ((conn.sendBlocked && waited > sendTicks) || conn.quietAfterFin(sendTicks)) conn.destroy();
        }
      } else if (conn.idle && conn.served) {
        if (waited > idleTicks) conn.end();
      } else if (headerTicks > 0 && waited > headerTicks) {
        conn.endUnanswered();
      }
    }
    for (const [socket, since] of this.handedMidHead) {
      if (headerTicks > 0 && this.tick - since > headerTicks) {
        this.handedMidHead.delete(socket);
        endAndLinger(socket, this, HEADER_TIMEOUT_RESPONSE);
      }
    }
    const sendTicks = Math.ceil(this.options.sendTimeoutMs / TICK_MS);
    if (sendTicks > 0) for (const [socket, since] of this.lingering) if (this.tick - since > sendTicks) socket.destroy();
    if (this.connections.size === 0 && this.lingering.size === 0 && this.handedMidHead.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }
}
