import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { handshakeProblem, isWebSocketUpgrade, tokensOf } from '../../src/proxy/websocket-handshake.js';
import { plainRequestHead } from '../../src/proxy/plain-http-replay.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ=='; // RFC 6455 §1.3's example key

const good: IncomingHttpHeaders = { host: 'a.example', upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': KEY, 'sec-websocket-version': '13' };

const cases: { name: string; method?: string; httpVersion?: string; headers?: IncomingHttpHeaders; problem?: RegExp }[] = [
  { name: 'a well-formed handshake' },
  { name: 'Upgrade in any letter case', headers: { ...good, upgrade: 'WebSocket' } },
  { name: 'Content-Length: 0 is no body', headers: { ...good, 'content-length': '0' } },
  { name: 'a POST', method: 'POST', problem: /must be a GET/ },
  { name: 'a HEAD', method: 'HEAD', problem: /must be a GET/ },
  { name: 'HTTP/1.0', httpVersion: '1.0', problem: /HTTP\/1\.1/ },
  { name: 'Upgrade with a second token', headers: { ...good, upgrade: 'websocket, h2c' }, problem: /websocket alone/ },
  { name: 'no Sec-WebSocket-Key', headers: { ...good, 'sec-websocket-key': undefined }, problem: /Key is missing/ },
  { name: 'an empty key', headers: { ...good, 'sec-websocket-key': '' }, problem: /16-byte/ },
  { name: 'a key of 15 bytes', headers: { ...good, 'sec-websocket-key': Buffer.alloc(15, 1).toString('base64') }, problem: /16-byte/ },
  { name: 'a key of 17 bytes', headers: { ...good, 'sec-websocket-key': Buffer.alloc(17, 1).toString('base64') }, problem: /16-byte/ },
  { name: 'a key that is not base64', headers: { ...good, 'sec-websocket-key': 'not*base64*at*all*xyz==' }, problem: /16-byte/ },
  { name: 'two keys (joined by the parser)', headers: { ...good, 'sec-websocket-key': `${KEY}, ${KEY}` }, problem: /16-byte/ },
  { name: 'no Sec-WebSocket-Version', headers: { ...good, 'sec-websocket-version': undefined }, problem: /must be 13 \(it is missing\)/ },
  { name: 'version 8', headers: { ...good, 'sec-websocket-version': '8' }, problem: /must be 13/ },
  { name: 'two versions', headers: { ...good, 'sec-websocket-version': '13, 8' }, problem: /must be 13/ },
  { name: 'a Content-Length body', headers: { ...good, 'content-length': '5' }, problem: /no body/ },
  { name: 'a chunked body', headers: { ...good, 'transfer-encoding': 'chunked' }, problem: /no body/ },
];

for (const c of cases) {
  test(`handshake: ${c.name}`, () => {
    const problem = handshakeProblem({ method: c.method ?? 'GET', httpVersion: c.httpVersion ?? '1.1', headers: c.headers ?? good });
    if (c.problem) assert.match(problem ?? '(none)', c.problem);
    else assert.equal(problem, undefined);
  });
}

const upgrades: { headers: IncomingHttpHeaders; websocket: boolean }[] = [
  { headers: { upgrade: 'websocket', connection: 'Upgrade' }, websocket: true },
  { headers: { upgrade: 'WEBSOCKET', connection: 'keep-alive, upgrade' }, websocket: true },
  { headers: { upgrade: 'h2c', connection: 'Upgrade, HTTP2-Settings' }, websocket: false },
  { headers: { upgrade: 'TLS/1.0', connection: 'Upgrade' }, websocket: false },
  { headers: { upgrade: 'foo', connection: 'upgrade' }, websocket: false },
  { headers: { upgrade: 'websocket', connection: 'keep-alive' }, websocket: false },
  { headers: { upgrade: 'websocketx', connection: 'upgrade' }, websocket: false },
];

for (const c of upgrades) {
  test(`upgrade kind: ${c.headers.upgrade} with Connection: ${String(c.headers.connection)} → ${c.websocket ? 'websocket' : 'plain HTTP'}`, () => {
    assert.equal(isWebSocketUpgrade(c.headers), c.websocket);
  });
}

test('tokensOf splits, trims and lower-cases comma-separated tokens', () => {
  assert.deepEqual(tokensOf(' Keep-Alive ,Upgrade,, '), ['keep-alive', 'upgrade']);
  assert.deepEqual(tokensOf(['a', 'B, c']), ['a', 'b', 'c']);
  assert.deepEqual(tokensOf(undefined), []);
});

test('the plain request head keeps everything but the upgrade', () => {
  const head = plainRequestHead({
    method: 'POST',
    url: '/x?y=1',
    httpVersion: '1.1',
    rawHeaders: ['Host', 'a.example', 'Connection', 'Upgrade, HTTP2-Settings, keep-alive', 'Upgrade', 'h2c', 'HTTP2-Settings', 'AAMAAABkAAQAAP__', 'Content-Length', '3', 'X-Name', 'caf\u00e9'],
  });
  assert.equal(head.toString('latin1'), 'POST /x?y=1 HTTP/1.1\r\nHost: a.example\r\nConnection: keep-alive\r\nContent-Length: 3\r\nX-Name: caf\u00e9\r\n\r\n');
  // latin1 in, latin1 out: the byte the client sent, not its UTF-8 re-encoding.
  assert.ok(head.includes(Buffer.from([0x63, 0x61, 0x66, 0xe9])));
  const noConnection = plainRequestHead({ method: 'GET', url: '/', httpVersion: '1.1', rawHeaders: ['Connection', 'upgrade', 'Upgrade', 'foo'] });
  assert.equal(noConnection.toString('latin1'), 'GET / HTTP/1.1\r\n\r\n');
});
