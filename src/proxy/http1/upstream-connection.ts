import { connect, type Socket } from 'node:net';
import { ClientClosedError } from '../../errors.js';
import {
  UpstreamClosedError,
  UpstreamConnectTimeoutError,
  UpstreamHeadersTimeoutError,
  isResendable,
  requestHead,
  sendsChunked,
  type ExchangeControl,
  type ExchangeHandler,
  type ExchangeRequest,
} from './exchange.js';
import { ResponseParser, type ResponseHeaders, type ResponseSink } from './response-parser.js';

/** Bytes asked for per read from an app: what Node reads at a time by default. */
const READ_BUFFER_BYTES = 64 * 1024;

/** What a connection needs of its pool. */
export interface ConnectionOwner {
  readonly host: string;
  readonly port: number;
  /** `host:port`, sent as Host when the client sent none. */
  readonly authority: string;
  readonly idleTimeoutMs: number;
  /** The response is complete and the connection may carry another request. */
  release(conn: UpstreamConnection): void;
  /** The connection is closed; `resend` is an exchange to send again on a fresh one. */
  lost(conn: UpstreamConnection, resend: Exchange | undefined): void;
}

/** One request on its way: the handle its handler holds (ExchangeControl). */
export class Exchange implements ExchangeControl {
  conn: UpstreamConnection | undefined;
  done = false;
  /** Sent once on a reused connection that closed before answering: not again. */
  resent = false;
  /** The sweep tick by which the response head must have come (0: unbounded). */
  deadline = 0;
  bodyDone: boolean;
  bodyBytes = 0;
  onBodyData: ((chunk: Buffer) => void) | undefined;
  onBodyEnd: (() => void) | undefined;
  onBodyError: (() => void) | undefined;

  constructor(
    readonly req: ExchangeRequest,
    readonly handler: ExchangeHandler,
    /** Takes a queued exchange out of its pool's queue. */
    private readonly unqueue: (ex: Exchange) => void,
  ) {
    this.bodyDone = req.body === null;
  }

  abort(err: Error): void {
    if (this.done) return;
    const conn = this.conn;
    if (conn) conn.destroy();
    else this.unqueue(this);
    this.fail(err);
  }

  pause(): void {
    if (!this.done) this.conn?.socket.pause();
  }

  resume(): void {
    if (!this.done) this.conn?.socket.resume();
  }

  /** Ends the exchange with `err` (once): the handler hears nothing after. */
  fail(err: Error): void {
    if (this.done) return;
    this.settle();
    this.handler.onError(err);
  }

  /** Marks the exchange over and lets go of the request body and the timer. */
  settle(): void {
    this.done = true;
    unwatch(this);
    const body = this.req.body;
    if (body && this.onBodyData) {
      body.off('data', this.onBodyData);
      body.off('end', this.onBodyEnd!);
      body.off('error', this.onBodyError!);
      body.off('aborted', this.onBodyError!);
      this.onBodyData = undefined;
    }
  }
}

/**
 * One keep-alive connection to an app: one exchange at a time (no
 * pipelining), the response read by ResponseParser. Reused only when the app
 * said keep-alive, the request body was sent whole and nothing came after the
 * response; a reused connection the app had closed meanwhile resends a
 * resendable request once on a fresh one (the keep-alive race every proxy
 * meets), anything else fails the exchange.
 */
export class UpstreamConnection implements ResponseSink {
  readonly socket: Socket;
  private readonly parser: ResponseParser;
  current: Exchange | undefined;
  private connected = false;
  /** Exchanges this connection has carried to the end. */
  private served = 0;
  /** Set by the owner while idle: performance.now() after which the app may have closed it (0: no hint). */
  expiresAt = 0;
  /** Idle through a whole sweep of the owner's: closed at the next one. */
  idleSwept = false;
  /** The connection's own error, if its close came from one. */
  private error: Error | undefined;
  private ended = false;
  dead = false;
  /** The socket's idle timer bounds an app that stopped reading the request body (armed only then). */
  private writeStallTimed = false;

  /**
   * What the socket reads into (Node's `onread`): one buffer kept per connection
   * instead of a new one per read, and no Readable stream between the read and
   * the parser. A body chunk handed on as a view of it lends it away (see onBody).
   */
  private readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  private readBufferLent = false;

  constructor(private readonly owner: ConnectionOwner, connectTimeoutMs: number) {
    this.parser = new ResponseParser(this);
    const socket = connect({
      host: owner.host,
      port: owner.port,
      noDelay: true,
      onread: {
        buffer: () => this.nextReadBuffer(),
        callback: (n: number, buf: Uint8Array) => {
          this.onSocketData((buf as Buffer).subarray(0, n));
          return true;
        },
      },
    });
    this.socket = socket;
    open.add(this);
    const timer = connectTimeoutMs > 0 ? setTimeout(() => socket.destroy(new UpstreamConnectTimeoutError(connectTimeoutMs)), connectTimeoutMs) : undefined;
    socket.once('connect', () => {
      if (timer) clearTimeout(timer);
      this.connected = true;
      if (this.current) this.send(this.current);
    });
    socket.on('drain', () => {
      if (this.writeStallTimed) {
        this.writeStallTimed = false;
        socket.setTimeout(0);
      }
      const body = this.current?.req.body;
      if (body?.isPaused()) body.resume();
    });
    socket.on('timeout', () => this.onWriteStall());
    socket.on('error', (err) => {
      this.error ??= err;
    });
    socket.on('close', () => {
      if (timer) clearTimeout(timer);
      this.onClose();
    });
  }

  /** Sends `ex` on this connection (now, or once connected). */
  run(ex: Exchange): void {
    this.current = ex;
    ex.conn = this;
    this.ended = false;
    this.parser.begin(ex.req.method === 'HEAD');
    if (this.connected) this.send(ex);
  }

  /** `err`: why a busy connection is cut (its exchange fails with it, even a body read until the close). */
  destroy(err?: Error): void {
    this.socket.destroy(err);
  }

  /** Idle and still worth trying: not closed, not past the app's keep-alive hint. */
  usable(now: number): boolean {
    return !this.dead && !this.socket.destroyed && (this.expiresAt === 0 || now < this.expiresAt);
  }

  get reused(): boolean {
    return this.served > 0;
  }

  get keepAliveHintMs(): number {
    return this.parser.keepAliveHintMs;
  }

  private send(ex: Exchange): void {
    const req = ex.req;
    const socket = this.socket;
    socket.write(requestHead(req, this.owner.authority));
    const chunked = sendsChunked(req);
    const body = req.body;
    // The app's time to answer counts from the end of the request: an upload may take long.
    // An app may answer before the body's end (an echo, an early error): its head has come, nothing to bound.
    const sent = () => {
      ex.bodyDone = true;
      if (req.headersTimeoutMs > 0 && this.parser.awaitingHead) watch(ex, req.headersTimeoutMs);
    };
    if (body === null) return sent();
    if (body.readableEnded) {
      // Nothing left to read (an empty body already consumed): only the chunked ending is owed.
      if (chunked) socket.write('0\r\n\r\n');
      return sent();
    }
    ex.onBodyData = (chunk: Buffer) => {
      if (ex.done || socket.destroyed) return;
      if (chunk.length === 0) return;
      ex.bodyBytes += chunk.length;
      let flushed: boolean;
      if (chunked) {
        socket.cork();
        socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
        socket.write(chunk);
        flushed = socket.write('\r\n', 'latin1');
        socket.uncork();
      } else {
        flushed = socket.write(chunk);
      }
      if (!flushed) {
        body.pause();
        // The head bound starts at the body's end, which an app that reads nothing never lets come.
        if (req.headersTimeoutMs > 0 && !this.writeStallTimed && this.parser.awaitingHead) {
          this.writeStallTimed = true;
          socket.setTimeout(req.headersTimeoutMs);
        }
      }
    };
    ex.onBodyEnd = () => {
      if (ex.done || socket.destroyed) return;
      if (chunked) socket.write('0\r\n\r\n', 'latin1');
      sent();
    };
    ex.onBodyError = () => ex.abort(new ClientClosedError());
    body.on('data', ex.onBodyData);
    body.on('end', ex.onBodyEnd);
    body.on('error', ex.onBodyError);
    body.on('aborted', ex.onBodyError);
  }

  /** Nothing written or read for the head bound while the request body waits on the app. */
  private onWriteStall(): void {
    this.writeStallTimed = false;
    this.socket.setTimeout(0);
    const ex = this.current;
    if (ex && !ex.done && !ex.bodyDone && this.parser.awaitingHead) ex.abort(new UpstreamHeadersTimeoutError(ex.req.headersTimeoutMs));
  }

  private onSocketData(data: Buffer): void {
    const ex = this.current;
    if (!ex) {
      // An idle connection the app talks on: nothing it says can be trusted for the next request.
      this.socket.destroy();
      return;
    }
    try {
      this.parser.execute(data);
    } catch (err) {
      this.socket.destroy();
      ex.fail(err as Error);
      return;
    }
    if (this.ended) this.afterResponse(ex);
    else if (!ex.done) ex.handler.onRead?.();
  }

  onHead(status: number, statusText: string, headers: ResponseHeaders): void {
    const ex = this.current;
    if (!ex || ex.done) return;
    unwatch(ex);
    ex.handler.onHead(ex, status, headers, statusText);
  }

  /** Handed on as an onHead of status 103 (see ExchangeHandler); the head's deadline still runs. */
  onEarlyHints(headers: ResponseHeaders): void {
    const ex = this.current;
    if (!ex || ex.done) return;
    ex.handler.onHead(ex, 103, headers, 'Early Hints');
  }

  onBody(chunk: Buffer): void {
    const ex = this.current;
    if (!ex || ex.done) return;
    if (ex.handler.onData(ex, chunk) !== true) this.readBufferLent = true;
  }

  /** The buffer for the next read: the same one, unless a chunk of it may still be in use. */
  private nextReadBuffer(): Buffer {
    if (this.readBufferLent) {
      this.readBufferLent = false;
      this.readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    }
    return this.readBuffer;
  }

  onEnd(): void {
    const ex = this.current;
    if (!ex || ex.done) return;
    this.ended = true;
    ex.settle();
    ex.handler.onEnd();
  }

  /** After the read that completed the response: keep the connection, or close it. */
  private afterResponse(ex: Exchange): void {
    if (this.current !== ex) return;
    this.current = undefined;
    ex.conn = undefined;
    this.served++;
    const p = this.parser;
    if (p.keepAlive && !p.leftover && ex.bodyDone && !this.socket.destroyed) {
      if (this.socket.isPaused()) this.socket.resume();
      // Answered before the body's last bytes drained: the stall bound must not outlive its exchange.
      if (this.writeStallTimed) {
        this.writeStallTimed = false;
        this.socket.setTimeout(0);
      }
      this.owner.release(this);
    } else {
      this.socket.destroy();
    }
  }

  private onClose(): void {
    this.dead = true;
    open.delete(this);
    const ex = this.current;
    let resend: Exchange | undefined;
    if (ex && !ex.done) {
      if (this.parser.untilClose && !this.error) {
        // The body ran until the close: that is its end (onEnd finds the exchange as `current`).
        this.parser.closed();
      } else if (!this.parser.received && this.reused && !ex.resent && isResendable(ex.req)) {
        ex.resent = true;
        unwatch(ex);
        resend = ex;
      } else {
        ex.fail(this.error ?? new UpstreamClosedError(this.parser.received ? 'the app closed the connection before its response was complete' : 'the app closed the connection before answering'));
      }
    }
    this.current = undefined;
    if (ex) ex.conn = undefined;
    this.owner.lost(this, resend);
  }
}

/**
 * Response-head deadlines, checked by one coarse timer: no timer, no clock
 * read and no collection change per request. An exchange's deadline is a
 * number on it, counted in the timer's ticks; the sweep walks the open
 * connections (a set that changes per connection, not per request) and
 * aborts the one whose exchange is past it. A bound fires between its time
 * and one tick later, never before.
 *
 * Not a set of waiting exchanges: an add and a delete per request on a
 * long-lived Set kept each request's objects alive past two scavenges (1.3 MB
 * surviving each instead of 0.1 MB, pauses of 9 ms instead of 1-2; see
 * bench/README.md "Garbage collection").
 */
const open = new Set<UpstreamConnection>();
let watched = 0;
let sweeper: NodeJS.Timeout | undefined;
let tick = 1;
const TICK_MS = 250;

function watch(ex: Exchange, ms: number): void {
  if (ex.deadline === 0) watched++;
  ex.deadline = tick + Math.ceil(ms / TICK_MS) + 1;
  sweeper ??= setInterval(sweep, TICK_MS).unref();
}

function unwatch(ex: Exchange): void {
  if (ex.deadline !== 0) {
    ex.deadline = 0;
    watched--;
  }
}

function sweep(): void {
  tick++;
  for (const conn of open) {
    const ex = conn.current;
    if (ex !== undefined && ex.deadline !== 0 && tick >= ex.deadline) ex.abort(new UpstreamHeadersTimeoutError(ex.req.headersTimeoutMs));
  }
  if (watched === 0 && sweeper) {
    clearInterval(sweeper);
    sweeper = undefined;
  }
}
