import type { Server } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * Starts `server` on host:port and resolves with the bound address (port 0 picks a free one).
 *
 * Once listening, a failed accept (EMFILE, ENFILE: out of file descriptors) is
 * emitted as the server's 'error'; unhandled, that would end the process. It is
 * handed to `onAcceptError` (or dropped) instead, and the server keeps accepting.
 */
export async function listenOn(server: Server, host: string, port: number, onAcceptError?: (err: Error) => void): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // A deep backlog: a burst of clients arriving together (many waiting for one cold start)
    // must not find the kernel's accept queue full and retry a second later.
    server.listen({ port, host, backlog: 4096 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => onAcceptError?.(err));
  return server.address() as AddressInfo;
}
