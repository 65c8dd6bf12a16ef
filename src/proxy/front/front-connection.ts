import type { Socket } from 'node:net';
import { problemFor, rawProblemResponse } from '../../api/problem.js';
import { clientErrorResponse } from '../client-error.js';
import { unmappedAddress } from '../forwarded-headers.js';
import { INCOMPLETE, MAX_PLAIN_HEAD, OTHER, parsePlainRequestHead, type PlainRequestHead } from './request-head.js';

/** What a front connection asks of the proxy behind it. */
export interface FrontRouter {
  /**
   * Serves this plain request on `conn` (calling `conn.exchangeDone()` when
   * its response is complete), or answers false having done nothing, and the
   * connection goes to Node's HTTP server with `headBytes` unread.
   */
  serve(conn: FrontConnection, head: PlainRequestHead, headBytes: Buffer): boolean;
}

/** The response under way on a front connection, told of what happens to the client. */
export interface FrontExchange {
  /** The client reads again after a write returned false. */
  drained(): void;
  /** The client connection closed before the response was complete. */
  clientClosed(): void;
  /** The client's EOF ends the response (an event stream: see endless-response.ts), not only its close. */
  readonly endsOnClientEof?: boolean;
}

/** What a front connection asks of its listener. */
export interface FrontOwner {
  readonly router: FrontRouter;
  readonly maxRequestHeaders: number;
  /** The sweep's tick count, 4 a second: timestamps without a clock read. */
  readonly tick: number;
  /** The HTTP date of this second, for responses. */
  readonly date: string;
  /** Shutting down: each connection ends after the response under way. */
  readonly closing: boolean;
  /**
   * Node's HTTP server takes the socket; its unread bytes were put back in front. `headSince`:
   * the tick a head still incomplete began, whose header bound Node's server would start afresh.
   */
  handOff(socket: Socket, headSince?: number): void;
  /** The connection left the front (closed, or handed to Node's server). */
  forget(conn: FrontConnection): void;
  /** An ended socket, its FIN queued: cut if its client leaves what was written unread (see Http1Front). */
  linger(socket: Socket): void;
}

/** Pipelined bytes read ahead of the response under way before reading stops (backpressure). */
const MAX_READ_AHEAD = 64 * 1024;

const enum Phase {
  /** Waiting for (the rest of) a request head; `since` is when the wait began. */
  Head,
  /** A response is under way. */
  Busy,
  /** Left the front: closed, or Node's server has it. */
  Gone,
}

/**
 * One client connection of the HTTP/1.1 front. It reads request heads; a
 * plain one (request-head.ts) that the router takes is served here, one after
 * the other on a kept-alive connection (pipelined ones wait their turn); at
 * the first one it does not take, the connection and every byte not yet
 * answered go to Node's HTTP server for the rest of the connection's life.
 *
 * No timer and no clock read per request: the front's sweep checks `since`
 * (in ticks) for the header, keep-alive and send bounds.
 */
export class FrontConnection {
  /** The client's address, read once (it is gone once the socket closes). */
  readonly client: string;
  /** The connection is TLS (a TLS listener's HTTP/1.1, see tls-split.ts). */
  readonly secure: boolean;
  private phase = Phase.Head;
  /** Bytes read and not yet handled: a partial head, or requests pipelined behind the one under way. */
  private pending: Buffer | undefined;
  /** The client sent its FIN: answer what it asked, then end. */
  private clientEnded = false;
  /** Reading was stopped by the front (read-ahead full, or while a response is under way). */
  private readPaused = false;
  /** The tick when the current wait began (a head, an idle keep-alive, a blocked send). */
  since: number;
  /** A request was answered here already: waiting now is keep-alive idling, not a slow head. */
  served = false;
  /** The client is not reading the response (a write returned false); the exchange is paused. */
  sendBlocked = false;
  /** The exchange under way, told when a blocked send drains and when the client goes. */
  current: FrontExchange | undefined;
  /** The send bound of the exchange under way (0: none), checked by the sweep. */
  sendTimeoutMs = 0;
  /**
   * The tick of the last write of the response under way, or of the client's FIN if later;
   * 0 while nothing of the response was written. See `quietAfterFin`.
   */
  private wroteAt = 0;

  constructor(readonly socket: Socket, private readonly owner: FrontOwner) {
    this.client = unmappedAddress(socket.remoteAddress ?? '');
    this.secure = (socket as { encrypted?: boolean }).encrypted === true;
    this.since = owner.tick;
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    socket.on('drain', this.onDrain);
  }

  /** The HTTP date of this second. */
  get date(): string {
    return this.owner.date;
  }

  get busy(): boolean {
    return this.phase === Phase.Busy;
  }

  /** Waiting for a request with nothing of it read yet. */
  get idle(): boolean {
    return this.phase === Phase.Head && this.pending === undefined;
  }

  get gone(): boolean {
    return this.phase === Phase.Gone;
  }

  /** Node's server could still take the connection: the client's FIN, which cannot be put back, was not read yet. */
  get canHandOff(): boolean {
    return !this.clientEnded;
  }

  /**
   * The response under way was begun and then written nothing for `ticks` since the client's FIN.
   * A FIN is all the proxy sees of a client that closed (it looks the same as a half-close, which
   * berth answers), and with nothing written no reset comes back: a quiet event stream would hold
   * the exchange, its upstream connection and the app's activity until the app wrote again, maybe
   * never. A half-closed client still waiting gets the send bound of silence (the head's wait is the
   * response bound's).
   */
  quietAfterFin(ticks: number): boolean {
    return this.clientEnded && this.wroteAt !== 0 && this.owner.tick - this.wroteAt > ticks;
  }

  /** Writes response bytes; false: the client is not keeping up (see sendBlocked). */
  write(data: Buffer | string): boolean {
    this.wroteAt = this.owner.tick;
    const flowing = typeof data === 'string' ? this.socket.write(data, 'latin1') : this.socket.write(data);
    if (!flowing && !this.sendBlocked) {
      this.sendBlocked = true;
      this.since = this.owner.tick;
    }
    return flowing;
  }

  /** The response under way is complete: serve what was pipelined, or wait for the next request. */
  exchangeDone(): void {
    if (this.phase !== Phase.Busy) return;
    this.current = undefined;
    // The client is not reading its answers: nothing more is served or read until it drains them (as
    // Node's server pauses such a connection), or answers to an endless pipeline would pile up in
    // memory. Still busy meanwhile, so the sweep's send bound cuts a client that never reads.
    if (this.sendBlocked && !this.socket.destroyed) return;
    this.next();
  }

  /** After a response: serve what was pipelined, or wait for the next request. */
  private next(): void {
    this.phase = Phase.Head;
    this.served = true;
    this.sendBlocked = false;
    this.wroteAt = 0;
    this.since = this.owner.tick;
    if (this.socket.destroyed) return;
    if (this.owner.closing || (this.clientEnded && this.pending === undefined)) {
      this.end();
      return;
    }
    if (this.pending !== undefined) this.parse();
    if (this.phase === Phase.Head && this.readPaused && !this.clientEnded) {
      this.readPaused = false;
      this.socket.resume();
    }
  }

  /** Ends the connection gracefully (a FIN after what was written). */
  end(): void {
    if (this.phase === Phase.Gone) return;
    this.leave();
    this.closeAfter();
  }

  /**
   * The head did not come in time: a 408 when part of one was read (as Node's
   * server answers past headersTimeout); a connection that sent nothing (a
   * browser's preconnect) is closed without a word.
   */
  endUnanswered(): void {
    if (this.phase === Phase.Gone) return;
    const partial = this.pending !== undefined;
    this.leave();
    this.closeAfter(partial ? HEADER_TIMEOUT_RESPONSE : undefined);
  }

  /** Writes `last` (if any) and the FIN; the listener cuts the socket if its client leaves them unread. */
  private closeAfter(last?: string): void {
    endAndLinger(this.socket, this.owner, last);
  }

  /** Cuts the connection now. */
  destroy(): void {
    this.socket.destroy();
  }

  /** The request under way failed before its response began, and Node's server is to serve it (`headBytes`) again. */
  replayThroughNode(headBytes: Buffer): void {
    if (this.phase !== Phase.Busy) return;
    this.phase = Phase.Head;
    this.current = undefined;
    this.pending = this.pending === undefined ? headBytes : Buffer.concat([headBytes, this.pending]);
    this.handOff();
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.pending === undefined) {
      // The first bytes of a head on a kept-alive connection: its header bound starts now, as Node's
      // does at a message's first byte (from the end of the last response, a long idle left it none).
      if (this.served && this.phase === Phase.Head) this.since = this.owner.tick;
      this.pending = chunk;
    } else {
      this.pending = Buffer.concat([this.pending, chunk]);
    }
    if (this.phase === Phase.Busy) {
      // Pipelined: read on only while there is room (and the client's FIN, if any, stays unread with it).
      if (this.pending.length >= MAX_READ_AHEAD && !this.readPaused) {
        this.readPaused = true;
        this.socket.pause();
      }
      return;
    }
    this.parse();
  };

  /** Serves the pending heads one at a time while they are plain and taken; hands off at the first that is not. */
  private parse(): void {
    while (this.phase === Phase.Head && this.pending !== undefined) {
      const buf = this.pending;
      const head = parsePlainRequestHead(buf, this.owner.maxRequestHeaders);
      if (head === INCOMPLETE) {
        if (buf.length > MAX_PLAIN_HEAD) return this.handOff();
        return;
      }
      if (head === OTHER) return this.handOff();
      const headBytes = head.length === buf.length ? buf : buf.subarray(0, head.length);
      this.pending = head.length === buf.length ? undefined : buf.subarray(head.length);
      this.phase = Phase.Busy;
      if (!this.owner.router.serve(this, head, headBytes)) {
        this.phase = Phase.Head;
        this.pending = buf;
        return this.handOff();
      }
    }
  }

  /** Node's HTTP server takes the connection, with every byte not answered here put back in front. */
  private handOff(): void {
    if (this.phase === Phase.Gone) return;
    const socket = this.socket;
    const unread = this.pending;
    this.pending = undefined;
    this.leave();
    if (this.clientEnded) {
      // The FIN was read already, so Node's server could not be given the bytes before it: the
      // request is refused with a plain answer rather than lost (a pipelined request after a half-close).
      this.closeAfter(HALF_CLOSED_REFUSAL);
      return;
    }
    if (unread !== undefined) socket.unshift(unread);
    if (this.readPaused) {
      this.readPaused = false;
      socket.resume();
    }
    this.owner.handOff(socket, unread !== undefined ? this.since : undefined);
  }

  /** Stops handling the socket's events here (Node's server, or nobody, has it now). */
  private leave(): void {
    this.phase = Phase.Gone;
    const socket = this.socket;
    socket.off('data', this.onData);
    socket.off('end', this.onEnd);
    socket.off('drain', this.onDrain);
    socket.off('error', this.onError);
    socket.off('close', this.onClose);
    // A late error on a socket nobody listens to would end the process.
    if (socket.listenerCount('error') === 0) socket.on('error', ignore);
    this.owner.forget(this);
  }

  private readonly onEnd = (): void => {
    this.clientEnded = true;
    if (this.current?.endsOnClientEof) return this.destroy();
    // The silence after a FIN is counted from the FIN (see quietAfterFin).
    if (this.wroteAt !== 0) this.wroteAt = this.owner.tick;
    if (this.phase !== Phase.Head) return;
    if (this.pending === undefined) return this.end();
    // Part of a head, then the FIN: it can never be a request. A 400 at once, as Node's server answers.
    this.leave();
    this.closeAfter(INCOMPLETE_HEAD_RESPONSE);
  };

  private readonly onError = (): void => {
    this.socket.destroy();
  };

  private readonly onClose = (): void => {
    const current = this.current;
    this.current = undefined;
    if (this.phase !== Phase.Gone) {
      this.phase = Phase.Gone;
      this.owner.forget(this);
    }
    current?.clientClosed();
  };

  private readonly onDrain = (): void => {
    if (!this.sendBlocked) return;
    this.sendBlocked = false;
    if (this.current !== undefined) this.current.drained();
    // A response that was complete but not yet taken by the client (exchangeDone): on to the next.
    else if (this.phase === Phase.Busy) this.next();
  };
}

function ignore(): void {}

/** Writes `last` (if any) and the FIN, then leaves the socket to `owner.linger`, which cuts it if its client leaves them unread. */
export function endAndLinger(socket: Socket, owner: Pick<FrontOwner, 'linger'>, last?: string): void {
  if (last === undefined) socket.end();
  else socket.end(last);
  socket.destroySoon();
  owner.linger(socket);
}

/** The raw 408 Node's server answers a head that did not arrive in time. */
export const HEADER_TIMEOUT_RESPONSE = clientErrorResponse('ERR_HTTP_REQUEST_TIMEOUT')!;

/** The raw 400 Node's server answers a head the client's FIN cut short (llhttp's HPE_INVALID_EOF_STATE). */
const INCOMPLETE_HEAD_RESPONSE = clientErrorResponse('HPE_INVALID_EOF_STATE')!;

/** The answer to a request pipelined after the client's FIN, which Node's server cannot be handed. */
const HALF_CLOSED_REFUSAL = rawProblemResponse(
  problemFor('bad_request', 'a request pipelined after the client half-closed its connection cannot be served; send it on a connection of its own'),
);
