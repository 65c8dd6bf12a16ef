import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { clientCloseFrame, FrameTracker, serverCloseFrame } from './websocket-frames.js';

/**
 * An open WebSocket between a client and an app: bytes are relayed both ways
 * untouched, with backpressure, while each direction's frame boundaries are
 * followed (see FrameTracker) so that `goAway` can end the conversation the
 * way RFC 6455 §7.1.2 asks: a close frame with code 1001 (Going Away) to each
 * side, sent between two frames, never inside one.
 *
 * `onClose` fires exactly once, when both sockets are closed. An error on
 * either destroys both; when one side closes, the other is ended (so what is
 * already written to it still goes out) and destroyed after LINGER_MS. A
 * half-close (one side's FIN) is passed on, and both are destroyed if the
 * tunnel is not closed `halfClosedMs` later: WebSocket has no half-closed
 * state (RFC 6455 §7.1.1: a closing side sends its close frame, then the TCP
 * connection is closed), and a client gone with a FIN to an app that never
 * ends its side (or the other way round) held the tunnel, its app awake and
 * its instance counted busy, for ever. A client's FIN with no close frame
 * before it is an abnormal closure (RFC 6455 §7.1.5: nothing more can come
 * from it, not even the close frame a handshake needs), so the tunnel does not
 * wait out that bound: once the app's frame under way (if any) is through, the
 * client is sent a 1001 close frame and ended, and the app follows within
 * LINGER_MS. A client that sent its close frame first still gets the app's
 * answer, as the half-closed bound allows.
 *
 * Backpressure holds memory to a socket buffer's worth each way: a side whose
 * writes are not taken pauses the other side's reads until it drains. A side
 * that stops reading for good would then hold the tunnel (and its app awake)
 * for ever, so a write that does not drain within `stalledMs` cuts both, as
 * a plain response the client leaves unread is cut at `timeouts.clientSend`.
 */
export class WebSocketTunnel {
  private readonly toClient: FrameRelay;
  private readonly toApp: FrameRelay;
  private closed = false;
  private goingAway = false;
  private readonly ended: Promise<void>;
  private resolveEnded!: () => void;

  constructor(
    private readonly client: Duplex,
    private readonly app: Duplex,
    private readonly onClose: () => void,
    halfClosedMs = HALF_CLOSED_MS,
    stalledMs = STALLED_MS,
  ) {
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    const destroyBoth = () => {
      client.destroy();
      app.destroy();
    };
    this.toClient = new FrameRelay(app, client, () => serverCloseFrame(), stalledMs, destroyBoth);
    this.toApp = new FrameRelay(client, app, () => clientCloseFrame(randomBytes(4)), stalledMs, destroyBoth);
    client.on('error', destroyBoth);
    app.on('error', destroyBoth);
    client.on('close', () => this.sideClosed(app));
    app.on('close', () => this.sideClosed(client));
    let halfClosed: NodeJS.Timeout | undefined;
    const onEnd = () => {
      halfClosed ??= setTimeout(destroyBoth, halfClosedMs).unref();
    };
    client.once('end', () => {
      onEnd();
      // No close frame before the FIN: the conversation is over, only the app's frame under way is finished.
      if (!this.toApp.closeSeen) this.toClient.stopAtBoundary();
    });
    app.once('end', onEnd);
    this.ended.then(() => clearTimeout(halfClosed));
  }

  /** Bytes relayed from the client to the app so far (berth's own close frames aside). */
  get bytesToApp(): number {
    return this.toApp.bytes;
  }

  /** Bytes relayed from the app to the client so far (berth's own close frames aside). */
  get bytesToClient(): number {
    return this.toClient.bytes;
  }

  /** Relays what each side sent before the tunnel opened, then everything that follows. */
  start(clientHead: Buffer, appHead: Buffer): void {
    if (this.closed) return;
    this.toApp.start(clientHead);
    this.toClient.start(appHead);
  }

  /**
   * Sends each side a 1001 close frame at its stream's next frame boundary,
   * ends both, and destroys them after `graceMs` whatever the peers do.
   * Resolves once the tunnel is closed.
   */
  goAway(graceMs: number): Promise<void> {
    // Asked again (each snapshot of a drain names its instances), the first grace stands.
    if (!this.closed && !this.goingAway) {
      this.goingAway = true;
      this.toClient.stopAtBoundary();
      this.toApp.stopAtBoundary();
      setTimeout(() => {
        this.client.destroy();
        this.app.destroy();
      }, graceMs).unref();
    }
    return this.ended;
  }

  private sideClosed(other: Duplex): void {
    if (!other.destroyed) {
      other.end();
      setTimeout(() => other.destroy(), LINGER_MS).unref();
    }
    if (this.closed || !this.client.destroyed || !this.app.destroyed) return;
    this.closed = true;
    this.onClose();
    this.resolveEnded();
  }
}

/** How long one side may take to flush and close once the other side has closed. */
const LINGER_MS = 2_000;
/** How long a tunnel may stay half-closed (one side's FIN) before both sides are cut: HAProxy's `timeout client-fin` spirit. */
export const HALF_CLOSED_MS = 30_000;
/** How long a write may wait for its reader to drain before the tunnel is cut (0: no bound): the default of `timeouts.clientSend`. */
export const STALLED_MS = 60_000;

/** One direction of the tunnel. */
class FrameRelay {
  private readonly tracker = new FrameTracker();
  private stopping = false;
  private stopped = false;
  /** Bytes handed to the reader's socket: what the history records of this direction. */
  bytes = 0;

  constructor(
    private readonly from: Duplex,
    private readonly to: Duplex,
    private readonly closeFrame: () => Buffer,
    private readonly stalledMs: number,
    private readonly stalled: () => void,
  ) {}

  /** The source sent a close frame (began or answered the closing handshake). */
  get closeSeen(): boolean {
    return this.tracker.closeSeen;
  }

  start(head: Buffer): void {
    if (head.length > 0) this.relay(head);
    this.from.on('data', (chunk: Buffer) => this.relay(chunk));
    // A half-close is passed on, as pipe() would.
    this.from.on('end', () => {
      if (!this.stopped) this.to.end();
    });
    // The client socket was paused until now (see forwardUpgrade); a 'data' listener alone does not resume it.
    this.from.resume();
  }

  stopAtBoundary(): void {
    this.stopping = true;
    if (this.tracker.atBoundary) return this.stop();
    if (this.tracker.broken) {
      // No boundary will come (a length past 2^53): nothing more is relayed, and the grace timer ends it.
      this.stopped = true;
      this.from.pause();
    }
  }

  private relay(chunk: Buffer): void {
    if (this.stopped) return;
    const taken = this.tracker.consume(chunk, this.stopping);
    if (taken > 0) this.send(taken === chunk.length ? chunk : chunk.subarray(0, taken));
    if (this.stopping && this.tracker.atBoundary) this.stop();
  }

  private send(bytes: Buffer): void {
    if (this.to.destroyed) return;
    this.bytes += bytes.length;
    if (!this.to.write(bytes)) {
      this.from.pause();
      // A reader that never drains would hold the tunnel for ever: it is cut at the bound (once
      // both sides are closed the timer only destroys what is destroyed already).
      const stall = this.stalledMs > 0 ? setTimeout(this.stalled, this.stalledMs).unref() : undefined;
      this.to.once('drain', () => {
        clearTimeout(stall);
        if (!this.stopped) this.from.resume();
      });
    }
  }

  /**
   * Nothing more is relayed; the close frame goes out and this side is ended.
   * What the source still sends (its own close frame, say) is read and dropped,
   * so its end is seen and the socket can close before the grace runs out.
   */
  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (!this.to.destroyed && this.to.writable) this.to.end(this.closeFrame());
    this.from.resume();
  }
}
