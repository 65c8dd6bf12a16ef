import { createServer, type Server } from 'node:http';
import { join } from 'node:path';

/**
 * Just enough of a Docker engine for a gateway with no apps, on a unix socket in `dir`: a ping,
 * empty lists, event streams that stay quiet. Lets a unit test run `berth serve` for real
 * without the engine lane. `onPing` may hold a ping's answer (a gateway caught mid-start).
 */
export async function quietEngine(dir: string, onPing: (answer: () => void) => void = (answer) => answer()): Promise<{ socket: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').replace(/^\/v[\d.]+/, '');
    res.setHeader('content-type', 'application/json');
    if (path.startsWith('/_ping')) return onPing(() => res.end('OK'));
    if (path.startsWith('/events')) return res.flushHeaders();
    res.end(path.startsWith('/volumes') ? '{"Volumes":[]}' : req.method === 'GET' && /\/json|^\/networks/.test(path) ? '[]' : '{}');
  });
  const socket = join(dir, 'engine.sock');
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return {
    socket,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
