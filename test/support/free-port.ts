import { createServer } from 'node:net';

/**
 * A free TCP port on 127.0.0.1 (bound, read, released): for a server a test starts later,
 * or, left unused, a port where a connection is refused.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
