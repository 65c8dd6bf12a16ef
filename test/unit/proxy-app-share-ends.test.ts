import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { pino } from 'pino';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import { StaticUpstreams } from '../../src/proxy/static-upstreams.js';

/**
 * An app's share of the connection cap counts each request up once and down once, however it ends:
 * a count left up on one ending path (an upstream reset, a response timeout, a client that resets while
 * the app is slow, a WebSocket closed by either side) locks the app out a little more each time.
 */

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Sends `head` raw and resolves with what came back once the connection closes (or `afterMs`, when the client resets it). */
function raw(port: number, head: string, resetAfterMs?: number): Promise<string> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ port, host: '127.0.0.1' });
    socket.on('error', () => undefined);
    socket.setEncoding('latin1');
    let text = '';
    socket.on('data', (c: string) => (text += c));
    socket.on('close', () => resolve(text));
    socket.write(head);
    if (resetAfterMs !== undefined) setTimeout(() => socket.resetAndDestroy(), resetAfterMs);
  });
}

test('every way a request ends gives its app share back: the app is still served after many of each', async () => {
  const hung: Socket[] = [];
  const upstream: Server = createServer((req, res) => {
    if (req.url === '/reset') return req.socket.destroy();
    if (req.url === '/hang') return void hung.push(req.socket);
    res.end('ok');
  });
  const tunnels: Socket[] = [];
  upstream.on('upgrade', (req, socket: Socket) => {
    socket.on('error', () => undefined);
    tunnels.push(socket);
    // The proxy's FIN (its client went) is answered with the app's, as a WebSocket server closes.
    socket.on('end', () => socket.end());
    socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n');
    // The app closes its end; or the client does (its path says which).
    if (req.url === '/ws-app-closes') setTimeout(() => socket.end(), 20);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const proxy = new ProxyServer({
    routes: new RouteTable([{ app: 'a', routes: [{ path: '/', stripPrefix: false }] }]),
    upstreams: new StaticUpstreams({ a: { host: '127.0.0.1', port: (upstream.address() as AddressInfo).port } }),
    logger: pino({ level: 'silent' }),
    timeouts: { upstreamResponseMs: 150 },
    // A share of 2: two requests left counted lock the app out.
    maxConnections: 4,
  });
  const port = (await proxy.listen('127.0.0.1', 0)).port;
  const ws = (path: string) => `GET ${path} HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;
  try {
    for (let i = 0; i < 3; i++) {
      assert.equal(await get(port, '/reset'), 502, 'the upstream reset');
      assert.equal(await get(port, '/hang'), 504, 'no answer in the response timeout');
      await raw(port, 'GET /hang HTTP/1.1\r\nhost: x\r\n\r\n', 50);
      assert.match(await raw(port, ws('/ws-app-closes')), /^HTTP\/1\.1 101 /);
      await raw(port, ws('/ws-client-closes'), 50);
    }
    // Every one of those ended: the share is whole again.
    const deadline = Date.now() + 10_000;
    while (proxy.openConnections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await get(port, '/ok'), 200);
    assert.equal(await get(port, '/ok'), 200);
    const both = await Promise.all([get(port, '/ok'), get(port, '/ok')]);
    assert.deepEqual(both, [200, 200]);
    // And the tunnels are closed at the app's end too, whichever side closed first.
    const closing = Date.now() + 10_000;
    while (tunnels.some((t) => !t.destroyed) && Date.now() < closing) await new Promise((r) => setTimeout(r, 20));
    assert.equal(tunnels.filter((t) => !t.destroyed).length, 0, 'no tunnel left open at the app');
  } finally {
    for (const s of [...hung, ...tunnels]) s.destroy();
    await proxy.close(100);
    // The proxy's kept-alive connections to it too.
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
  }
});
