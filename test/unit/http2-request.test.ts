import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adaptHttp2Request, type Http2RequestParts } from '../../src/proxy/http2-request.js';

const cases: Array<[name: string, given: Http2RequestParts, headers: Record<string, string | undefined>, raw: string[]]> = [
  [
    ':authority becomes Host; a bodiless GET stays bodiless',
    { headers: { ':authority': 'a.example.com' }, rawHeaders: [':authority', 'a.example.com'], stream: { endAfterHeaders: true } },
    { host: 'a.example.com', 'transfer-encoding': undefined },
    [],
  ],
  [
    'a Host of its own is kept',
    { headers: { ':authority': 'a.example.com', host: 'b.example.com' }, rawHeaders: [], stream: { endAfterHeaders: true } },
    { host: 'b.example.com' },
    [],
  ],
  [
    'pseudo-headers leave the raw list: only what the app gets is counted',
    { headers: { ':authority': 'a', ':method': 'GET' }, rawHeaders: [':method', 'GET', ':path', '/', ':scheme', 'https', ':authority', 'a', 'accept', '*/*'], stream: { endAfterHeaders: true } },
    { ':method': 'GET' },
    ['accept', '*/*'],
  ],
  [
    'a body without Content-Length is chunked',
    { headers: { ':authority': 'a' }, rawHeaders: [], stream: { endAfterHeaders: false } },
    { 'transfer-encoding': 'chunked' },
    [],
  ],
  [
    'a body with Content-Length is left as it is',
    { headers: { ':authority': 'a', 'content-length': '3' }, rawHeaders: [], stream: { endAfterHeaders: false } },
    { 'transfer-encoding': undefined, 'content-length': '3' },
    [],
  ],
  [
    'split Cookie fields are joined into the first, in order',
    { headers: { ':authority': 'a' }, rawHeaders: [':path', '/', 'cookie', 'a=1', 'x-y', 'z', 'cookie', 'b=2', 'Cookie', 'c=3'], stream: { endAfterHeaders: true } },
    {},
    ['cookie', 'a=1; b=2; c=3', 'x-y', 'z'],
  ],
];

for (const [name, given, headers, raw] of cases) {
  test(name, () => {
    adaptHttp2Request(given);
    for (const [key, value] of Object.entries(headers)) assert.equal(given.headers[key], value, key);
    assert.deepEqual(given.rawHeaders, raw);
  });
}
