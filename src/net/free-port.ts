import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP port free on `host` right now: bound on port 0, read and released, so a server
 * started right after (or, left unused, a connection that must be refused) gets it.
 */
export function freePortOn(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
