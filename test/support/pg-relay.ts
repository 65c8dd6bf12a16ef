import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP relay on 127.0.0.1 in front of a PostgreSQL server, to make store trouble
 * real without touching the server:
 * - `blackHole`: bytes vanish both ways on the connections already open, and new
 *   connections are accepted and never answered (no RST: what a cut network does);
 * - `delayMs`: every chunk is held this long before it is passed on (a slow link);
 * - `muteWhen`: a connection whose client sends a chunk matching it goes silent
 *   from that chunk on (the chunk is not passed on), and the server never hears of
 *   the client closing it: a gateway cut off mid-transaction.
 * `url` is the server's URL with the relay's port.
 */
export class PgRelay {
  blackHole = false;
  delayMs = 0;
  muteWhen?: RegExp;
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  private port = 0;

  constructor(private readonly target: string) {
    const { hostname, port } = new URL(target);
    this.server = createServer((client) => {
      this.track(client);
      if (this.blackHole) return;
      const upstream = connect(Number(port || 5432), hostname || '127.0.0.1');
      this.track(upstream);
      let muted = false;
      client.on('data', (chunk: Buffer) => {
        if (this.muteWhen?.test(chunk.toString('latin1'))) muted = true;
        if (!muted) this.pass(chunk, upstream);
      });
      upstream.on('data', (chunk: Buffer) => {
        if (!muted) this.pass(chunk, client);
      });
      // A muted connection's end never reaches the server either (a cut network carries no FIN): close() ends it.
      client.on('close', () => {
        if (!muted) upstream.destroy();
      });
      upstream.on('close', () => client.destroy());
    });
  }

  get url(): string {
    const url = new URL(this.target);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  /** Every connection through the relay dropped (a reset, as a restart of the server's host). */
  dropAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  close(): Promise<void> {
    this.dropAll();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private pass(chunk: Buffer, to: Socket): void {
    // Looked at when the chunk is passed on, so a black hole begun meanwhile swallows it too.
    const send = () => {
      if (!this.blackHole && !to.destroyed) to.write(chunk);
    };
    if (this.delayMs > 0) setTimeout(send, this.delayMs);
    else send();
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => this.sockets.delete(socket));
  }
}
