import { test } from 'node:test';
import assert from 'node:assert/strict';
import { responseHead } from '../../src/proxy/front/response-head.js';

const add = { requestId: 'abcdefgh-1x2y', date: 'Tue, 01 Dec 2026 15:15:34 GMT', setCookie: undefined, chunked: false, close: false };

test("the client's response head has the app's fields in order, then berth's, and exactly the room asked for after it", () => {
  const headers = { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'], 'content-length': '3' };
  const buf = responseHead(200, 'OK', headers, add, 3);
  assert.equal(
    buf.toString('latin1', 0, buf.length - 3),
    'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nset-cookie: a=1\r\nset-cookie: b=2\r\ncontent-length: 3\r\nx-request-id: abcdefgh-1x2y\r\ndate: Tue, 01 Dec 2026 15:15:34 GMT\r\n\r\n',
  );
});

test("every line berth may add, each left out when the app sent its own; the HSTS and a sticky pin lead, as on Node's path", () => {
  const all = responseHead(404, 'Not Here', {}, { ...add, setCookie: 'pin=i1; Path=/', hsts: 'max-age=31536000', chunked: true, close: true });
  assert.equal(
    all.toString('latin1'),
    'HTTP/1.1 404 Not Here\r\nstrict-transport-security: max-age=31536000\r\nset-cookie: pin=i1; Path=/\r\nx-request-id: abcdefgh-1x2y\r\ndate: Tue, 01 Dec 2026 15:15:34 GMT\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n',
  );
  const own = responseHead(503, '', { 'x-request-id': 'app-1', date: 'D', 'strict-transport-security': 'max-age=1' }, { ...add, hsts: 'max-age=31536000' });
  // The app sent no reason: none is made up (Node's writeHead on the full path relays the empty one).
  assert.equal(own.toString('latin1'), 'HTTP/1.1 503 \r\nstrict-transport-security: max-age=1\r\nx-request-id: app-1\r\ndate: D\r\n\r\n');
  // The app's cookies come first, then the pin, at the head's top; the app's other fields in their order.
  const cookies = responseHead(200, 'OK', { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'], 'content-length': '0' }, { ...add, setCookie: 'pin=i1' });
  assert.equal(
    cookies.toString('latin1'),
    'HTTP/1.1 200 OK\r\nset-cookie: a=1\r\nset-cookie: b=2\r\nset-cookie: pin=i1\r\ncontent-type: text/plain\r\ncontent-length: 0\r\nx-request-id: abcdefgh-1x2y\r\ndate: Tue, 01 Dec 2026 15:15:34 GMT\r\n\r\n',
  );
});
