import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect, Socket, type AddressInfo } from 'node:net';
import { answerClientError, clientErrorResponse, clientErrorStatus } from '../../src/proxy/client-error.js';

/** [error code from Node's parser or server, status answered (undefined: nothing written)]. */
const cases: Array<[string | undefined, number | undefined]> = [
  ['HPE_INVALID_METHOD', 400],
  ['HPE_INVALID_URL', 400],
  ['HPE_INVALID_CONSTANT', 400],
  ['HPE_INVALID_HEADER_TOKEN', 400],
  ['HPE_UNEXPECTED_CONTENT_LENGTH', 400],
  ['HPE_INVALID_TRANSFER_ENCODING', 400],
  ['HPE_HEADER_OVERFLOW', 431],
  ['ERR_HTTP_REQUEST_TIMEOUT', 408],
  ['HPE_HEADERS_TIMEOUT', 408],
  ['BERTH_CONNECT', 405],
  ['ECONNRESET', undefined],
  ['EPIPE', undefined],
  [undefined, 400],
];

for (const [code, status] of cases) {
  test(`client error ${code ?? '(no code)'} → ${status ?? 'nothing written'}`, () => {
    assert.equal(clientErrorStatus(code), status);
    const response = clientErrorResponse(code);
    if (status === undefined) {
      assert.equal(response, undefined);
    } else {
      assert.ok(response?.startsWith(`HTTP/1.1 ${status} `), response);
      assert.match(response!, /\r\nconnection: close\r\n\r\n\{/);
      assert.match(response!, /\r\ncontent-type: application\/problem\+json\r\n/);
      const [head, body] = response!.split('\r\n\r\n', 2) as [string, string];
      assert.match(head, new RegExp(`\\r\\ncontent-length: ${Buffer.byteLength(body)}\\r\\n`));
      assert.equal((JSON.parse(body) as { status: number }).status, status);
    }
  });
}

/** Sends `text`, then reads until the server closes; rejects after `timeoutMs`. */
function exchange(port: number, text: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let out = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`not closed within ${timeoutMs} ms: ${JSON.stringify(out)}`));
    }, timeoutMs);
    socket.on('data', (c: Buffer) => (out += c.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    socket.write(text);
  });
}

test('answerClientError on a real server: 408 for a head that never ends, 400 for garbage, 431 for a huge head', async () => {
  const server = createServer({ headersTimeout: 300, requestTimeout: 300, connectionsCheckingInterval: 50 }, (_req, res) => res.end('ok'));
  server.on('clientError', answerClientError);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    assert.match(await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\nX-Slow: '), /^HTTP\/1\.1 408 [^]*connection: close\r\n\r\n\{[^]*"code":"request_timeout"/);
    assert.match(await exchange(port, '\x00\x01garbage\r\n\r\n'), /^HTTP\/1\.1 400 /);
    assert.match(await exchange(port, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`), /^HTTP\/1\.1 431 /);
    // The server is still serving.
    assert.match(await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200 /);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('answerClientError never throws, whatever state the socket is in', () => {
  const destroyed = new Socket();
  destroyed.destroy();
  assert.doesNotThrow(() => answerClientError(Object.assign(new Error('x'), { code: 'HPE_INVALID_URL' }), destroyed));
  const reset = new Socket();
  assert.doesNotThrow(() => answerClientError(Object.assign(new Error('x'), { code: 'ECONNRESET' }), reset));
  assert.equal(reset.destroyed, true);
});
