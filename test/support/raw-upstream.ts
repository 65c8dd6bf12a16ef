import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** How a misbehaving app answers once a request head has arrived on `socket`. */
export type UpstreamBehaviour = (socket: Socket, head: string) => void;

/** A raw TCP "app" on 127.0.0.1 that answers every request head with `behaviour`; it records every byte it got. */
export class RawUpstream {
  readonly received: Buffer[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(behaviour: UpstreamBehaviour): Promise<RawUpstream> {
    let upstream: RawUpstream | undefined;
    const server = createServer((socket) => {
      upstream!.sockets.add(socket);
      socket.on('close', () => upstream!.sockets.delete(socket));
      socket.on('error', () => undefined);
      let buffered = '';
      let answered = false;
      socket.on('data', (c: Buffer) => {
        upstream!.received.push(c);
        if (answered) return;
        buffered += c.toString('latin1');
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        answered = true;
        behaviour(socket, buffered.slice(0, end));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    upstream = new RawUpstream(server, (server.address() as AddressInfo).port);
    return upstream;
  }

  get text(): string {
    return Buffer.concat(this.received).toString('latin1');
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
