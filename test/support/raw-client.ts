import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

/**
 * A raw TCP client for tests that must send what no HTTP client library would
 * (hostile heads, resets at chosen points) and see the exact bytes answered.
 * Every wait is bounded.
 */
export class RawClient {
  private received = Buffer.alloc(0);
  /** The socket is closed. */
  closed = false;
  /** The server ended its side (a FIN); with `halfOpen`, the socket then stays open. */
  serverEnded = false;
  private readonly waiters = new Set<() => void>();

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake();
    });
    // A reset by the far end is an outcome the tests look at, not a failure of the test process.
    socket.on('error', () => undefined);
    socket.on('end', () => {
      this.serverEnded = true;
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  /** With `halfOpen`, the client never closes its side by itself, even after the server's FIN. */
  static open(port: number, options: { halfOpen?: boolean } = {}): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: options.halfOpen ?? false }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  /** The same over TLS to 127.0.0.1 (SNI `servername`, trusting `ca` only), offering HTTP/1.1 alone by ALPN. */
  static openTls(port: number, options: { ca: string; servername: string; halfOpen?: boolean }): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      // allowHalfOpen reaches the TLS socket (tls.connect passes it on), though the types leave it out.
      const tlsOptions: ConnectionOptions & { allowHalfOpen: boolean } = { host: '127.0.0.1', port, ca: options.ca, servername: options.servername, ALPNProtocols: ['http/1.1'], allowHalfOpen: options.halfOpen ?? false };
      const socket = tlsConnect(tlsOptions, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  get bytes(): Buffer {
    return this.received;
  }

  get text(): string {
    return this.received.toString('latin1');
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Waits until `done(text)` holds or the server closed the connection; fails after `timeoutMs`. */
  async until(done: (text: string) => boolean, timeoutMs = 5_000): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    while (!done(this.text)) {
      if (this.closed || this.serverEnded) return this.text;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms; received so far: ${describeReceived(this.text)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.text;
  }

  /** Waits until the server closed the connection (or its side of it); fails after `timeoutMs`. */
  async untilClosed(timeoutMs = 5_000): Promise<string> {
    await this.until(() => false, timeoutMs).catch((err: Error) => {
      if (!this.closed && !this.serverEnded) throw err;
    });
    if (!this.closed && !this.serverEnded) throw new Error('the connection is still open');
    return this.text;
  }

  /** Forgets what was received so far, for the next exchange on a kept-alive connection. */
  clear(): void {
    this.received = Buffer.alloc(0);
  }

  /** Ends with a TCP reset rather than a FIN, as a crashing client would. */
  reset(): void {
    this.socket.resetAndDestroy();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) w();
  }
}

/** Whether `text` holds a whole HTTP response with a Content-Length body. */
export function hasWholeResponse(text: string): boolean {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end));
  return length ? text.length >= end + 4 + Number(length[1]) : false;
}

/** A well-formed WebSocket handshake for `path` (RFC 6455 §1.3's example key). */
export function wsHandshake(path: string, extra = ''): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
}

/** A masked client frame carrying `text` (RFC 6455 §5.3). */
export function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  if (payload.length > 125) throw new Error('short frames only');
  const mask = [1, 2, 3, 4];
  const masked = payload.map((b, i) => b ^ mask[i % 4]!);
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length, ...mask]), masked]);
}

/** What a client received, for a failure message: its size, its answers, and both ends of it (a long pipeline stalls at its end). */
function describeReceived(text: string): string {
  const answers = text.split('HTTP/1.1 ').length - 1;
  if (text.length <= 600) return `${answers} answer(s): ${JSON.stringify(text)}`;
  return `${text.length} bytes, ${answers} answer(s), beginning ${JSON.stringify(text.slice(0, 300))} … ending ${JSON.stringify(text.slice(-300))}`;
}
