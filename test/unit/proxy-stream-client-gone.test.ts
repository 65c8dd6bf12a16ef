// A client that leaves an app's event stream (a closed tab) sends its FIN and nothing
// more. A quiet stream writes nothing to find out that the client is gone, so the proxy
// held the request as in flight (the app was never idle-stopped) and its upstream
// connection open, one more for each client that came and went, until the app next
// wrote: maybe never.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { quietStreamGateway } from '../support/fake-gateway.js';

/** Sends `request` on a raw socket and resolves with the socket once the answer's head came. */
function openStream(port: number, request: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer head within 5 s'));
    }, 5_000);
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      got += chunk.toString('latin1');
      if (!got.includes('\r\n\r\n')) return;
      clearTimeout(timer);
      assert.match(got, /^HTTP\/1\.1 200 [^]*content-type: text\/event-stream/i);
      socket.removeAllListeners('data');
      resolve(socket);
    });
    socket.write(request);
  });
}

describe('a client that leaves a quiet event stream lets go of it', () => {
  const cases = [
    ['a GET (the front serves it)', 'GET /session/s/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n'],
    ["a GET asking to close (Node's server serves it)", 'GET /session/s/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n'],
    ["a POST with a body (Node's server serves it)", 'POST /session/s/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\nhi'],
  ] as const;
  for (const [what, request] of cases) {
    it(what, async (t) => {
      const { bed, gateway } = await quietStreamGateway(t);
      const inFlight = async () => (await bed.api(gateway, 'GET', '/v1/apps/s')).json.status.inFlight as number;
      const clients = 3;
      for (let i = 0; i < clients; i++) {
        const socket = await openStream(gateway.proxyAddress!.port, request);
        assert.equal(await inFlight(), 1, 'the stream counts while its client is there');
        // The client leaves as a closed tab does: its FIN, then the socket closed.
        socket.end();
        socket.destroy();
        const deadline = performance.now() + 5_000;
        while ((await inFlight()) !== 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        assert.equal(await inFlight(), 0, `the stream of client ${i + 1} ended within 5 s of its leaving`);
      }
    });
  }
});
