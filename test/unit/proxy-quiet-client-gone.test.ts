// A client reads a quiet event stream's head, then closes its connection. Its FIN is
// all the proxy sees (a half-close looks the same, and berth answers half-closed
// clients), and nothing is written that could draw the client's reset: the exchange,
// its upstream connection and the app's in-flight count stayed open until the app
// wrote again, which a quiet stream may never do, so the app was never stopped.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { pino } from 'pino';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import { StaticUpstreams } from '../../src/proxy/static-upstreams.js';
import { FakeGatewayBed, quietStreamGateway } from '../support/fake-gateway.js';

/** Sends `request`, waits for the answer's head, then sends the FIN (ending or destroying the socket). */
function readHeadThenLeave(port: number, request: string, how: 'end' | 'destroy'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no head within 5 s'));
    }, 5_000);
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      got += chunk.toString('latin1');
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      socket.removeAllListeners('data');
      if (how === 'end') socket.end();
      else socket.destroy();
      resolve(got.slice(0, end));
    });
    socket.write(request);
  });
}

async function stateOf(bed: FakeGatewayBed, gateway: Parameters<FakeGatewayBed['api']>[0], app: string): Promise<string> {
  return (await bed.api(gateway, 'GET', `/v1/apps/${app}`)).json.state;
}

describe('a client that stays on a quiet response keeps the app up', () => {
  it('a GET (the front serves it) and a POST (Node\'s server serves it), open past the send bound and the idle timeout', async (t) => {
    const { bed, gateway } = await quietStreamGateway(t, 'timeouts:\n  clientSend: 1s\n', { idleTimeout: '1s' });
    const port = gateway.proxyAddress!.port;
    const open = [
      'GET /session/s/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
      'POST /session/s/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\nhi',
    ].map((request) => {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(request);
      return socket;
    });
    t.after(() => open.forEach((s) => s.destroy()));
    await new Promise((r) => setTimeout(r, 2_500));
    assert.equal(await stateOf(bed, gateway, 's'), 'running', 'never stopped while its streams are open');
    assert.ok(open.every((s) => !s.destroyed && s.readable), 'the quiet streams were not cut');
    // Gone now (the gateway's close would wait out its grace for them otherwise).
    open.forEach((s) => s.destroy());
  });
});

describe('a client that leaves a quiet response does not keep the app up', () => {
  const cases = [
    // A client that destroys its socket sends the same FIN (nothing unread); the proxy cannot tell.
    ['a GET (the front serves it), client ends', 'GET /session/s/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 'end'],
    ["a POST with a body (Node's server serves it), client destroys", 'POST /session/s/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\nhi', 'destroy'],
  ] as const;
  for (const [what, request, how] of cases) {
    it(what, async (t) => {
      const { bed, gateway } = await quietStreamGateway(t, 'timeouts:\n  clientSend: 1s\n', { idleTimeout: '1s' });
      const head = await readHeadThenLeave(gateway.proxyAddress!.port, request, how);
      assert.match(head, /^HTTP\/1\.1 200 /);
      // Idle timeout (1 s) after the send bound (1 s) ended the exchange: generous on a loaded machine.
      const deadline = performance.now() + 20_000;
      let state = await stateOf(bed, gateway, 's');
      while (state !== 'stopped' && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        state = await stateOf(bed, gateway, 's');
      }
      assert.equal(state, 'stopped', 'the app is stopped once the client has left');
    });
  }
});

// The bound after a FIN must not cut a half-closed client that waits for its answer: the head's
// wait is the response bound's, and a body that keeps coming within the send bound flows on.
describe('a half-closed client still gets a slow answer', () => {
  const cases = [
    ['a GET (the front serves it)', 'GET /slow/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'],
    ["a POST with a body (Node's server serves it)", 'POST /slow/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\nhi'],
  ] as const;
  for (const [what, request] of cases) {
    it(what, async (t) => {
      // The head comes after twice the send bound; then a chunk every half of it.
      const app = createServer((req, res) => {
        req.resume();
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.flushHeaders();
          let n = 0;
          const tick = setInterval(() => {
            if (res.destroyed) return clearInterval(tick);
            res.write(`part${n}\n`);
            if (++n === 4) {
              clearInterval(tick);
              res.end('done\n');
            }
          }, 300);
        }, 1_200);
      });
      await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
      t.after(() => {
        app.closeAllConnections();
        app.close();
      });
      const proxy = new ProxyServer({
        routes: new RouteTable([{ app: 'slow', routes: [{ path: '/slow/', stripPrefix: true }] }]),
        upstreams: new StaticUpstreams({ slow: { host: '127.0.0.1', port: (app.address() as AddressInfo).port } }),
        logger: pino({ level: 'silent' }),
        timeouts: { clientHeaderMs: 5_000, clientBodyIdleMs: 5_000, clientSendMs: 600, upstreamConnectMs: 5_000, upstreamResponseMs: 10_000 },
      });
      const port = (await proxy.listen('127.0.0.1', 0)).port;
      t.after(() => proxy.close(100));
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
        let got = '';
        const timer = setTimeout(() => {
          socket.destroy();
          reject(new Error(`no complete answer within 15 s: ${JSON.stringify(got)}`));
        }, 15_000);
        socket.on('error', () => undefined);
        socket.on('data', (c: Buffer) => (got += c.toString('latin1')));
        socket.on('end', () => {
          clearTimeout(timer);
          socket.destroy();
          resolve(got);
        });
        socket.end(request);
      });
      assert.match(answer, /^HTTP\/1\.1 200 /);
      assert.match(answer, /part0\n[\s\S]*part3\n[\s\S]*done\n/);
    });
  }
});
