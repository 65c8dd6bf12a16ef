import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { ClientClosedError } from '../../errors.js';
import { rawFailureAnswer, wantsHtml } from '../error-page.js';
import { classifyFailure, isConnectionFailure } from '../failure.js';
import { isIdempotentRead, ownChunk, putLatin1, type ExchangeControl, type ExchangeHandler } from '../http1/exchange.js';
import type { ResponseHeaders } from '../http1/response-parser.js';
import type { Http1Pool } from '../http1/upstream-pool.js';
import type { RouteMatch } from '../route-table.js';
import type { ForwardBounds } from '../forward-http.js';
import type { Upstream, UpstreamSource } from '../upstream.js';
import type { FrontConnection, FrontExchange } from './front-connection.js';
import type { PlainRequestHead } from './request-head.js';
import { hasNoBody, responseHead } from './response-head.js';
import { earlyHintsHead } from './early-hints.js';
import { isEventStream } from '../endless-response.js';
import { probeDeadPeer } from '../../net/tcp-keepalive.js';

/** What a fast exchange asks of the proxy. */
export interface FastExchangeOwner {
  readonly upstreams: UpstreamSource;
  readonly logger: Logger;
  pool(origin: string, connectTimeoutMs: number): Http1Pool;
  /** The exchange is over: activity ends and the history gets its record. */
  done(ex: FastExchange): void;
  /**
   * The exchange is over without a record: Node's server serves the request again, the first on
   * `socket`, knowing it failed on `failed` already (with `err`), so it is not sent there again.
   */
  released(app: string, socket: Socket, failed: Upstream, err: Error): void;
}

/** Bodies up to this size go out in one buffer with the head (one write, no writev). */
const JOIN_LIMIT = 16 * 1024;

/** The end of a chunked body (no trailers). */
const LAST_CHUNK = '0\r\n\r\n';

/**
 * One plain request served by berth's own front: sent to the instance the
 * activator answered ready, and the app's response written onto the client's
 * socket as it comes (its head joined with the first body bytes in one
 * write; chunked to the client when the app gave no length). The same
 * decisions as the full path (proxy-server.ts `forward`): one resend to
 * another ready instance when the connection failed before any answer to a
 * GET, HEAD or OPTIONS; a 502/504 page or problem when nothing was written
 * yet; the client's connection cut when a response breaks off midway.
 */
export class FastExchange implements ExchangeHandler, FrontExchange {
  /** The status written to the client (0: nothing yet). */
  status = 0;
  bytesOut = 0;
  private ctl: ExchangeControl | undefined;
  /**
   * The app's response head, held until the first body bytes (or the end) so they leave in
   * one write, and written then into the buffer that carries them (see takeHead).
   */
  private head: ResponseHeaders | undefined;
  private statusText = '';
  private chunked = false;
  /** The app answered an event stream: the client's EOF ends it (see endless-response.ts). */
  endsOnClientEof = false;
  /** An event stream whose client sent its FIN before the app answered: the connection is cut after this read (see onHead). */
  private cutAfterRead = false;
  private retried = false;
  private over = false;

  constructor(
    private readonly owner: FastExchangeOwner,
    readonly conn: FrontConnection,
    readonly req: PlainRequestHead,
    private readonly headBytes: Buffer,
    readonly match: RouteMatch,
    public upstream: Upstream,
    private setCookie: string | undefined,
    readonly startedMs: number,
    readonly requestId: string,
    private readonly headers: string[],
    private readonly bounds: ForwardBounds & { connectTimeoutMs: number },
    /** Strict-Transport-Security for the client, over TLS for an app with `hsts`. */
    private readonly hsts?: string,
  ) {}

  /** Sends the request to `upstream`. */
  send(): void {
    this.upstream.inFlight++;
    this.conn.current = this;
    this.conn.sendTimeoutMs = this.bounds.sendMs;
    this.owner
      .pool(this.upstream.origin, this.bounds.connectTimeoutMs)
      .dispatch({ method: this.req.method, path: this.match.upstreamPath, headers: this.headers, body: null, headersTimeoutMs: this.bounds.responseTimeoutMs }, this);
  }

  onStart(ctl: ExchangeControl): void {
    this.ctl = ctl;
  }

  onHead(_ctl: ExchangeControl, status: number, headers: ResponseHeaders, statusText: string): void {
    // 103 Early Hints go on at once (the front serves HTTP/1.1 clients only, who may be sent a 1xx).
    if (status < 200) {
      const hints = this.status === 0 ? earlyHintsHead(headers) : undefined;
      if (hints !== undefined) this.conn.write(hints);
      return;
    }
    this.status = status;
    this.chunked = !hasNoBody(this.req.method, status) && headers['content-length'] === undefined;
    this.endsOnClientEof = isEventStream(headers['content-type']);
    // A quiet stream to a client gone without a FIN (closed laptop) was held for ever, as a tunnel was.
    if (this.endsOnClientEof) probeDeadPeer(this.conn.socket);
    // The client's EOF came while the app had not answered yet: it has left already. It is cut once this read is
    // relayed (onRead), as Node's path cuts it right after the head and what came with it: cut here, before the
    // head, it got nothing, and the two paths told apart.
    if (this.endsOnClientEof && !this.conn.canHandOff) this.cutAfterRead = true;
    this.head = headers;
    this.statusText = statusText;
  }

  /** The client's response head held back (undefined once written), with `room` bytes free after it. */
  private takeHead(room: number): Buffer | undefined {
    const headers = this.head;
    if (headers === undefined) return undefined;
    this.head = undefined;
    return responseHead(
      this.status,
      this.statusText,
      headers,
      { requestId: this.requestId, date: this.conn.date, setCookie: this.setCookie, hsts: this.hsts, chunked: this.chunked, close: false },
      room,
    );
  }

  /** True when nothing of `chunk` is kept (copied: joined to the head, or a small one), so the upstream may reuse its read buffer. */
  onData(ctl: ExchangeControl, chunk: Buffer): boolean {
    this.bytesOut += chunk.length;
    let copied = false;
    const conn = this.conn;
    let flowing: boolean;
    if (this.chunked) {
      const own = ownChunk(chunk);
      copied = own.copied;
      const size = `${chunk.length.toString(16)}\r\n`;
      const head = this.takeHead(size.length);
      if (head !== undefined) putLatin1(head, head.length - size.length, size);
      conn.socket.cork();
      conn.write(head ?? size);
      conn.write(own.chunk);
      flowing = conn.write('\r\n');
      conn.socket.uncork();
    } else if (this.head === undefined) {
      const own = ownChunk(chunk);
      copied = own.copied;
      flowing = conn.write(own.chunk);
    } else if (chunk.length <= JOIN_LIMIT) {
      const out = this.takeHead(chunk.length)!;
      chunk.copy(out, out.length - chunk.length);
      copied = true;
      flowing = conn.write(out);
    } else {
      conn.socket.cork();
      conn.write(this.takeHead(0)!);
      flowing = conn.write(chunk);
      conn.socket.uncork();
    }
    if (!flowing) ctl.pause();
    return copied;
  }

  onRead(): void {
    const head = this.takeHead(0);
    if (head !== undefined && !this.conn.write(head)) this.ctl?.pause();
    if (this.cutAfterRead) this.conn.destroy();
  }

  onEnd(): void {
    const head = this.takeHead(this.chunked ? LAST_CHUNK.length : 0);
    if (head !== undefined) {
      if (this.chunked) putLatin1(head, head.length - LAST_CHUNK.length, LAST_CHUNK);
      this.conn.write(head);
    } else if (this.chunked) this.conn.write(LAST_CHUNK);
    this.upstream.inFlight--;
    if (this.upstream.failures !== 0) this.upstream.failures = 0;
    this.end();
    this.conn.exchangeDone();
  }

  onError(err: Error): void {
    if (this.head !== undefined) {
      // The app's head came, but its body broke off in the same read (a bad chunk size, say): the head
      // was still held, so the client has seen nothing and gets the app's 502, not a cut connection.
      this.head = undefined;
      this.status = 0;
    }
    const upstream = this.upstream;
    upstream.inFlight--;
    if (isConnectionFailure(err)) upstream.failures++;
    const conn = this.conn;
    const clientGone = err instanceof ClientClosedError || conn.socket.destroyed;
    // Sent once more at most, as on the full path: a retry that fails too is answered here. Handed to Node's
    // server after it, that server counted its own retry afresh, and sent it on to the first instance again
    // and its retry to the second: a GET that crashes its instance's connection reached the app four times.
    if (!this.retried && !clientGone && this.status === 0 && isConnectionFailure(err) && isIdempotentRead(this.req.method)) {
      this.retried = true;
      // Nothing reached the client and the request did nothing: another ready instance gets it...
      const other = this.owner.upstreams.admitReady?.(this.match.app, this.req as unknown as IncomingMessage, upstream.instanceId);
      if (other !== undefined) {
        this.upstream = other.upstream;
        this.setCookie = other.setCookie;
        this.send();
        return;
      }
      // ...or Node's server serves it, told which instance failed: it finds out whether that instance exited
      // and wakes the app again (holds or pages) as the full path does, never sending it to that instance again.
      // Not once the client half-closed (Node's server cannot be given its FIN back), nor with nobody to ask
      // whether the instance exited: the failure is answered below.
      if (conn.canHandOff && this.owner.upstreams.unreachable !== undefined) {
        this.over = true;
        this.owner.released(this.match.app, conn.socket, upstream, err);
        conn.replayThroughNode(this.headBytes);
        return;
      }
    }
    const bounds = this.bounds;
    const failure = classifyFailure(err, clientGone, { app: this.match.app, connectTimeoutMs: bounds.connectTimeoutMs, responseTimeoutMs: bounds.responseTimeoutMs });
    // Logged even when the response had begun (as the full path does): the history shows the app's status then.
    if (failure.status >= 500) this.owner.logger.warn({ app: this.match.app, instance: upstream.instanceId, requestId: this.requestId, err: failure.reason }, 'upstream failed');
    if (failure.status === 0 || this.status !== 0) {
      // The client left, or half a response cannot be finished or replaced: the client's connection is cut.
      this.end();
      conn.destroy();
      return;
    }
    this.status = failure.status;
    const headOnly = this.req.method === 'HEAD';
    // UTF-8, as its Content-Length counts it: the reason may quote an app's bytes >= 0x80 (a string write here
    // is latin1, which sent fewer bytes than announced, and the client read the next answer's first as this one's).
    const answer = Buffer.from(rawFailureAnswer(failure, this.match.app, wantsHtml(this.req), headOnly, this.requestId, conn.date, false, this.hsts), 'utf8');
    // The history counts the body bytes of berth's own answer, as for the app's.
    if (!headOnly) this.bytesOut = answer.length - answer.indexOf('\r\n\r\n') - 4;
    conn.write(answer);
    this.end();
    conn.exchangeDone();
  }

  drained(): void {
    this.ctl?.resume();
  }

  clientClosed(): void {
    this.ctl?.abort(new ClientClosedError());
  }

  /** Once per exchange: activity and the history record. */
  private end(): void {
    if (this.over) return;
    this.over = true;
    this.owner.done(this);
  }
}
