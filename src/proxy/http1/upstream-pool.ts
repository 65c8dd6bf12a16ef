import { UpstreamPoolClosedError, type ExchangeHandler, type ExchangeRequest } from './exchange.js';
import { Exchange, UpstreamConnection, type ConnectionOwner } from './upstream-connection.js';

export interface PoolOptions {
  /** Bound on connecting; 0: none. */
  connectTimeoutMs: number;
  /** Connections open at once (busy, idle or connecting); more requests queue. */
  maxConnections?: number;
  /** An idle connection is closed after idling between half of this and this long. */
  idleTimeoutMs?: number;
}

/**
 * What the app's Keep-Alive `timeout=` is shortened by before berth stops
 * reusing a connection: the app closes at its own deadline, and a request sent
 * just before that would meet the close.
 */
const KEEP_ALIVE_MARGIN_MS = 1000;

/**
 * Keep-alive HTTP/1.1 connections to one app instance (one origin), berth's
 * own upstream client: the proxy's hot path, written for it. Idle connections
 * are reused newest first (the warmest, and the app's oldest are left to
 * expire); a burst beyond `maxConnections` waits in a queue instead of opening
 * a connection each and overflowing a fresh app's accept queue.
 */
export class Http1Pool implements ConnectionOwner {
  readonly authority: string;
  readonly idleTimeoutMs: number;
  private readonly maxConnections: number;
  private readonly idle: UpstreamConnection[] = [];
  private readonly queue: Exchange[] = [];
  private open = 0;
  /** Closes connections left idle through a whole period (idleTimeoutMs / 2): no clock read per request. */
  private idleSweeper: NodeJS.Timeout | undefined;
  /** Every open connection, for close(). */
  private readonly all = new Set<UpstreamConnection>();
  private closing = false;
  /** close() ran: nothing more is sent, not even what was queued or is to be resent. */
  private stopped = false;
  private readonly unqueue = (ex: Exchange) => {
    const i = this.queue.indexOf(ex);
    if (i >= 0) this.queue.splice(i, 1);
  };

  constructor(readonly host: string, readonly port: number, private readonly options: PoolOptions) {
    this.authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.maxConnections = options.maxConnections ?? 256;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  }

  /** Connections open now (busy, idle or connecting). */
  get size(): number {
    return this.open;
  }

  /** No connection open and no request waiting: the pool holds nothing, and may be forgotten. */
  get unused(): boolean {
    return this.open === 0 && this.queue.length === 0;
  }

  dispatch(req: ExchangeRequest, handler: ExchangeHandler): void {
    const ex = new Exchange(req, handler, this.unqueue);
    handler.onStart(ex);
    if (ex.done) return;
    if (this.closing) return ex.fail(new UpstreamPoolClosedError('the gateway no longer sends to this instance'));
    this.assign(ex, false);
  }

  private assign(ex: Exchange, fresh: boolean): void {
    if (!fresh) {
      let conn: UpstreamConnection | undefined;
      let now = 0;
      while ((conn = this.idle.pop())) {
        if (conn.expiresAt !== 0 && now === 0) now = performance.now();
        if (conn.usable(now)) return conn.run(ex);
        conn.destroy();
      }
    }
    if (this.open < this.maxConnections) {
      this.open++;
      const conn = new UpstreamConnection(this, this.options.connectTimeoutMs);
      this.all.add(conn);
      return conn.run(ex);
    }
    this.queue.push(ex);
  }

  release(conn: UpstreamConnection): void {
    const next = this.queue.shift();
    if (next) return conn.run(next);
    if (this.closing) return conn.destroy();
    const hint = conn.keepAliveHintMs;
    if (hint > 0) {
      if (hint <= KEEP_ALIVE_MARGIN_MS) return conn.destroy();
      conn.expiresAt = performance.now() + hint - KEEP_ALIVE_MARGIN_MS;
    } else if (conn.expiresAt !== 0) {
      conn.expiresAt = 0;
    }
    conn.idleSwept = false;
    this.idle.push(conn);
    this.idleSweeper ??= setInterval(() => this.sweepIdle(), Math.max(1, this.idleTimeoutMs / 2)).unref();
  }

  /** A connection idle at two sweeps in a row has been idle for half the timeout at least: closed. */
  private sweepIdle(): void {
    const now = performance.now();
    const kept = this.idle.filter((conn) => {
      if (!conn.idleSwept && conn.usable(now)) {
        conn.idleSwept = true;
        return true;
      }
      conn.destroy();
      return false;
    });
    this.idle.splice(0, this.idle.length, ...kept);
    if (this.idle.length === 0) this.stopIdleSweeper();
  }

  private stopIdleSweeper(): void {
    if (this.idleSweeper) clearInterval(this.idleSweeper);
    this.idleSweeper = undefined;
  }

  lost(conn: UpstreamConnection, resend: Exchange | undefined): void {
    this.open--;
    this.all.delete(conn);
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    if (resend && !this.stopped) this.assign(resend, true);
    else if (resend) resend.fail(new UpstreamPoolClosedError('the gateway no longer sends to this instance'));
    // A slot is free: the oldest queued request gets a connection of its own.
    while (this.queue.length > 0 && this.open < this.maxConnections) this.assign(this.queue.shift()!, true);
  }

  /**
   * No new requests; idle connections close now, busy ones once the queue
   * (requests already accepted, as undici's close served them) is empty.
   */
  drain(): void {
    this.closing = true;
    this.stopIdleSweeper();
    for (const conn of this.idle.splice(0)) conn.destroy();
  }

  /** Like drain, and queued requests fail and busy connections are cut too. */
  close(): void {
    this.stopped = true;
    this.drain();
    for (const ex of this.queue.splice(0)) ex.fail(new UpstreamPoolClosedError('the gateway no longer sends to this instance'));
    for (const conn of this.all) conn.destroy(new UpstreamPoolClosedError('the gateway stopped sending to this instance'));
  }
}
