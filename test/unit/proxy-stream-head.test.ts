// An app's event stream sends its head, then nothing until its first event (minutes,
// maybe). The proxy held a response head back to send it with the first body bytes in
// one write, so such a client got nothing at all: no status, no EventSource `open`,
// until the first event.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { quietStreamGateway } from '../support/fake-gateway.js';

/** Sends `request` on a raw socket; resolves with the answer's head, or undefined if none came within `ms`. */
function headWithin(port: number, request: string, ms: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    const done = (head: string | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(head);
    };
    const timer = setTimeout(() => done(undefined), ms);
    socket.on('error', () => done(undefined));
    socket.on('data', (chunk) => {
      got += chunk.toString('latin1');
      const end = got.indexOf('\r\n\r\n');
      if (end >= 0) done(got.slice(0, end));
    });
    socket.write(request);
  });
}

describe("a quiet event stream's head reaches the client at once", () => {
  const cases = [
    ['a GET (the front serves it)', 'GET /session/s/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n'],
    ["a POST with a body (Node's server serves it)", 'POST /session/s/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\nhi'],
  ] as const;
  for (const [what, request] of cases) {
    it(what, async (t) => {
      const { bed, gateway } = await quietStreamGateway(t);
      const head = await headWithin(gateway.proxyAddress!.port, request, 5_000);
      assert.ok(head !== undefined, 'a head came within 5 s');
      assert.match(head, /^HTTP\/1\.1 200 /);
      assert.match(head, /content-type: text\/event-stream/i);
    });
  }
});
