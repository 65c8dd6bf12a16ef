import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { pino } from 'pino';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import { StaticUpstreams } from '../../src/proxy/static-upstreams.js';

/**
 * An app that answers an upload before reading it (a 401, a 413) and stops reading: berth's side of
 * the upstream connection pauses the client's body on backpressure, and once the answer is relayed
 * the rest of the body must still be read (and dropped), or the client's connection wedges.
 */

let app: Server;
let proxy: ProxyServer;
let proxyPort = 0;
const appSockets = new Set<Socket>();

before(async () => {
  app = createServer((socket) => {
    appSockets.add(socket);
    socket.on('close', () => appSockets.delete(socket));
    socket.on('error', () => undefined);
    let seen = '';
    socket.on('data', (chunk: Buffer) => {
      seen += chunk.toString('latin1');
      if (seen.startsWith('POST')) {
        // Reads no more of the body; answers once berth's writes have had time to back up.
        socket.pause();
        setTimeout(() => socket.write('HTTP/1.1 401 Unauthorized\r\nContent-Length: 4\r\n\r\nnope'), 200);
        seen = '';
      } else if (seen.includes('\r\n\r\n')) {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nafter');
        seen = '';
      }
    });
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const appPort = (app.address() as AddressInfo).port;
  proxy = new ProxyServer({
    routes: new RouteTable([{ app: 'a', routes: [{ path: '/', stripPrefix: false }] }]),
    upstreams: new StaticUpstreams({ a: { host: '127.0.0.1', port: appPort } }),
    logger: pino({ level: 'silent' }),
  });
  proxyPort = (await proxy.listen('127.0.0.1', 0)).port;
});

after(async () => {
  await proxy.close(100);
  for (const s of appSockets) s.destroy();
  await new Promise<void>((r) => app.close(() => r()));
});

test('an upload answered before the app read it: the rest of the body is read and dropped, and the next request on the connection is served', async () => {
  const size = 8 * 1024 * 1024;
  const client = connect(proxyPort, '127.0.0.1');
  client.on('error', () => undefined);
  let got = '';
  const answered = new Promise<boolean>((resolve) => {
    const deadline = setTimeout(() => resolve(false), 15_000);
    client.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('\r\n\r\nafter')) {
        clearTimeout(deadline);
        resolve(true);
      }
    });
    client.on('close', () => {
      clearTimeout(deadline);
      resolve(false);
    });
  });
  // All of it at once, buffered on the client's side: the upload, then a request on the same connection.
  client.write(`POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: ${size}\r\n\r\n`);
  client.write(Buffer.alloc(size, 0x61));
  client.write('GET /next HTTP/1.1\r\nHost: a\r\n\r\n');
  const ok = await answered;
  client.destroy();
  assert.ok(got.startsWith('HTTP/1.1 401'), `the early answer was relayed: ${JSON.stringify(got.slice(0, 40))}`);
  assert.ok(ok, `the request after the upload was never answered (got ${JSON.stringify(got.slice(0, 200))})`);
});
