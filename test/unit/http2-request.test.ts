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
    'a Host naming the same host (case, port, trailing dot aside) is let through; :authority is what the app gets',
    { headers: { ':authority': 'a.example.com:8443', host: 'A.Example.com.' }, rawHeaders: [], stream: { endAfterHeaders: true } },
    { host: 'a.example.com:8443' },
    [],
  ],
  [
    'Host alone (no :authority) is kept',
    { headers: { host: 'b.example.com' }, rawHeaders: [], stream: { endAfterHeaders: true } },
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
    assert.equal(adaptHttp2Request(given), undefined);
    for (const [key, value] of Object.entries(headers)) assert.equal(given.headers[key], value, key);
    assert.deepEqual(given.rawHeaders, raw);
  });
}

// RFC 9113 §8.3.1: a Host that names another entity than :authority makes the request malformed.
// Routed by one and sent on with the other, it would confuse whatever trusts either.
const conflicts: Array<[authority: string, host: string | string[]]> = [
  ['a.example.com', 'b.example.com'],
  ['a.example.com', 'a.example.com.evil.test'],
  ['a.example.com', 'bad host'],
  ['a.example.com', ['a.example.com', 'b.example.com']],
];
for (const [authority, host] of conflicts) {
  test(`:authority ${authority} with Host ${JSON.stringify(host)} is refused`, () => {
    const given: Http2RequestParts = { headers: { ':authority': authority, host: host as string }, rawHeaders: [], stream: { endAfterHeaders: true } };
    assert.equal(adaptHttp2Request(given), 'the Host header names another host than :authority');
  });
}

// RFC 9113 §8.3.1: :path is a request-target, ASCII. Raw UTF-8 in its query reached the app
// (byte-exact) but the history read it as latin1 ("Ã©"); HTTP/1.1 refuses such a target.
const utf8AsLatin1 = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');
const targets: Array<[path: string, refused: boolean]> = [
  [`/q?x=${utf8AsLatin1('é')}`, true],
  [`/q?x=1&y=${utf8AsLatin1('日本')}`, true],
  ['/q?x=\u00e9', true],
  [`/q#a?${utf8AsLatin1('é')}`, true],
  ['/q?x=%C3%A9', false],
  ['/q', false],
  ['/q?', false],
  // The path part is request-path.ts's to refuse (with its own reason), not this.
  [`/caf${utf8AsLatin1('é')}`, false],
];
for (const [path, refused] of targets) {
  test(`:path ${JSON.stringify(path)} is ${refused ? 'refused' : 'let through'}`, () => {
    const given: Http2RequestParts = { headers: { ':authority': 'a', ':path': path }, rawHeaders: [], stream: { endAfterHeaders: true } };
    const problem = adaptHttp2Request(given);
    if (refused) assert.match(problem ?? '', /outside ASCII in the request target/);
    else assert.equal(problem, undefined);
  });
}
