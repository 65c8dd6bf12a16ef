import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import { StaticUpstreams } from '../../src/proxy/static-upstreams.js';
import { waitFor } from '../support/wait-for.js';

// A browser cannot set headers on a WebSocket, so apps take its token in the query string
// (`?access_token=`); the access log leaves queries out, and so must every other log line.
test('a client reset during a WebSocket exchange is logged by its path, never its query string', async () => {
  const held: Socket[] = [];
  // An app that takes the handshake and never answers it: the exchange is open when the client resets.
  const app = createServer((socket) => held.push(socket));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const lines: Array<Record<string, unknown>> = [];
  const proxy = new ProxyServer({
    routes: new RouteTable([{ app: 'ws', routes: [{ path: '/session/ws/', stripPrefix: false }] }]),
    upstreams: new StaticUpstreams({ ws: { host: '127.0.0.1', port: (app.address() as AddressInfo).port } }),
    logger: pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }),
  });
  const { port } = await proxy.listen('127.0.0.1', 0);
  try {
    const client = connect(port, '127.0.0.1');
    client.on('error', () => undefined);
    client.write(
      'GET /session/ws/feed?access_token=tok-s3cr3t HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    await waitFor('the app holds the handshake', () => held.length === 1);
    client.resetAndDestroy();
    const line = await waitFor('the reset logged', () => lines.find((l) => l.msg === 'client connection failed during a WebSocket exchange'));
    assert.equal(line.url, '/session/ws/feed');
    assert.ok(!JSON.stringify(lines).includes('tok-s3cr3t'), 'no log line carries the token');
  } finally {
    for (const s of held) s.destroy();
    await proxy.close(1000);
    await new Promise<void>((r) => app.close(() => r()));
  }
});
