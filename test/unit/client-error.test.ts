import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientErrorResponse, clientErrorStatus } from '../../src/proxy/client-error.js';

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
      assert.match(response!, /\r\nconnection: close\r\n\r\n$/);
      assert.match(response!, /\r\ncontent-length: 0\r\n/);
    }
  });
}
