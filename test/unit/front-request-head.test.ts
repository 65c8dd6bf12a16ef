import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { RawClient } from '../support/raw-client.js';
import { INCOMPLETE, MAX_PLAIN_HEAD, OTHER, parsePlainRequestHead, type PlainRequestHead } from '../../src/proxy/front/request-head.js';

const parse = (text: string, maxHeaders = 100) => parsePlainRequestHead(Buffer.from(text, 'latin1'), maxHeaders);

describe('the front recognises plain request heads', () => {
  it('reads a plain GET: method, target, headers as sent, what berth reads, its length', () => {
    const text = 'GET /a/b?x=1 HTTP/1.1\r\nHost: app.test\r\nAccept:  text/html \r\nCookie: s=1\r\nX-Request-Id: abc\r\nConnection: keep-alive\r\n\r\nGET /next';
    const head = parse(text) as PlainRequestHead;
    assert.equal(head.method, 'GET');
    assert.equal(head.url, '/a/b?x=1');
    assert.deepEqual(head.rawHeaders, ['Host', 'app.test', 'Accept', 'text/html', 'Cookie', 's=1', 'X-Request-Id', 'abc', 'Connection', 'keep-alive']);
    assert.deepEqual(head.headers, { host: 'app.test', accept: 'text/html', cookie: 's=1', 'x-request-id': 'abc', connection: 'keep-alive' });
    assert.equal(head.length, text.indexOf('GET /next'));
  });

  const plain: Array<[string, string]> = [
    ['HEAD', 'HEAD / HTTP/1.1\r\nhost: h\r\n\r\n'],
    ['DELETE without a body', 'DELETE /x HTTP/1.1\r\nHost: h\r\n\r\n'],
    ['POST with Content-Length: 0', 'POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n'],
    ['Content-Length: 0 between tab and spaces', 'POST /x HTTP/1.1\r\nHost: h\r\nContent-Length:\t0  \r\n\r\n'],
    ['OPTIONS', 'OPTIONS /x HTTP/1.1\r\nHost: h\r\n\r\n'],
    ['tabs around a value', 'GET / HTTP/1.1\r\nHost:\th\t\r\n\r\n'],
    ['a header with an empty value', 'GET / HTTP/1.1\r\nHost: h\r\nX-Empty:\r\n\r\n'],
    ['a repeated header berth does not read', 'GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nX-A: 2\r\n\r\n'],
  ];
  for (const [name, text] of plain) {
    it(`plain: ${name}`, () => assert.notEqual(typeof parse(text), 'number', text));
  }

  // Each of these goes to Node's parser, which serves or refuses it as before.
  const other: Array<[string, string]> = [
    ['HTTP/1.0', 'GET / HTTP/1.0\r\nHost: h\r\n\r\n'],
    ['HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
    ['an unusual method', 'PROPFIND / HTTP/1.1\r\nHost: h\r\n\r\n'],
    ['a lower-case method', 'get / HTTP/1.1\r\nHost: h\r\n\r\n'],
    ['CONNECT', 'CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n'],
    ['absolute-form', 'GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n'],
    ['asterisk-form', 'OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n'],
    ['two spaces in the request line', 'GET  / HTTP/1.1\r\nHost: h\r\n\r\n'],
    ['a space in the target', 'GET /a b HTTP/1.1\r\nHost: h\r\n\r\n'],
    ['obs-text in the target', 'GET /\xe9 HTTP/1.1\r\nHost: h\r\n\r\n'],
    ['no Host', 'GET / HTTP/1.1\r\nX: y\r\n\r\n'],
    ['two Hosts', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'],
    ['an empty Host', 'GET / HTTP/1.1\r\nHost: \r\n\r\n'],
    ['a body by length', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello'],
    ['two lengths of 0', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n'],
    ['a chunked body', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['Transfer-Encoding on a GET', 'GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ['Expect', 'PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n'],
    ['a WebSocket handshake', 'GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'],
    ['Connection: close', 'GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n'],
    ['Connection naming a header', 'GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, X-Secret\r\n\r\n'],
    // llhttp takes Proxy-Connection for Connection: `close` there ends the connection in Node's server.
    ['Proxy-Connection', 'GET / HTTP/1.1\r\nHost: h\r\nProxy-Connection: close\r\n\r\n'],
    // Node refuses a tab after the digits of a Content-Length (and takes spaces).
    ['a tab after Content-Length: 0', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\t\r\n\r\n'],
    ['a tab and a space after Content-Length: 0', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\t \r\n\r\n'],
    ['two Cookie lines', 'GET / HTTP/1.1\r\nHost: h\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n'],
    ['two Accept lines', 'GET / HTTP/1.1\r\nHost: h\r\nAccept: a\r\nAccept: b\r\n\r\n'],
    ['two request ids', 'GET / HTTP/1.1\r\nHost: h\r\nX-Request-Id: a\r\nX-Request-Id: b\r\n\r\n'],
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n 2\r\n\r\n'],
    ['a space before the colon', 'GET / HTTP/1.1\r\nHost : h\r\n\r\n'],
    ['no colon', 'GET / HTTP/1.1\r\nHost h\r\n\r\n'],
    ['a name that is not a token', 'GET / HTTP/1.1\r\nHost: h\r\nX(A): 1\r\n\r\n'],
    ['obs-text in a value', 'GET / HTTP/1.1\r\nHost: h\r\nX-A: caf\xe9\r\n\r\n'],
    ['a bare LF in a value', 'GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\n2\r\n\r\n'],
    ['a bare CR in a value', 'GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r2\r\n\r\n'],
    ['a NUL in a value', 'GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\x002\r\n\r\n'],
    ['an empty line first', '\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n'],
    ['LF-only line ends', 'GET / HTTP/1.1\nHost: h\n\n'],
  ];
  for (const [name, text] of other) {
    it(`goes to Node: ${name}`, () => assert.equal(parse(text), OTHER, JSON.stringify(text)));
  }

  it('more header lines than the limit go to Node (which answers 431)', () => {
    const text = 'GET / HTTP/1.1\r\nHost: h\r\n' + 'X-A: 1\r\n'.repeat(3) + '\r\n';
    assert.equal(parse(text, 3), OTHER);
    assert.notEqual(typeof parse(text, 4), 'number');
  });

  it('a head larger than Node would take goes to Node, complete or not', () => {
    const big = 'GET / HTTP/1.1\r\nHost: h\r\nX-A: ' + 'a'.repeat(MAX_PLAIN_HEAD) + '\r\n';
    assert.equal(parse(big), OTHER);
    assert.equal(parse(big + '\r\n'), OTHER);
  });

  it('bytes that cannot begin a plain head go to Node at once (a TLS ClientHello, junk), not after a timeout', () => {
    assert.equal(parsePlainRequestHead(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]), 100), OTHER);
    assert.equal(parse('GETTINGLONG / HTTP/1.1'), OTHER);
    assert.equal(parse('GET / HTTP/1.1\r\nHost: h\x00'), OTHER);
    assert.equal(parse('GET / HTTP/1.1\r\nHost: h'), INCOMPLETE);
    assert.equal(parse('GE'), INCOMPLETE);
  });

  it('property: a plain head read in any number of pieces is incomplete until its blank line, then the same', () => {
    const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/).filter((n) => !['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'expect', 'cookie', 'accept', 'x-request-id'].includes(n.toLowerCase()));
    const value = fc.stringMatching(/^[!-~]([ -~]{0,30}[!-~])?$/);
    fc.assert(
      fc.property(
        fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
        fc.stringMatching(/^\/[!-~]{0,40}$/),
        fc.array(fc.tuple(name, value), { maxLength: 12 }),
        fc.nat(),
        (method, target, fields, cut) => {
          let text = `${method} ${target} HTTP/1.1\r\nHost: app.test\r\n`;
          for (const [n, v] of fields) text += `${n}: ${v}\r\n`;
          text += '\r\n';
          const whole = parse(text) as PlainRequestHead;
          assert.equal(typeof whole, 'object');
          assert.equal(whole.url, target);
          assert.equal(whole.length, text.length);
          assert.equal(whole.rawHeaders.length, 2 + fields.length * 2);
          const at = cut % text.length;
          assert.equal(parse(text.slice(0, at)), INCOMPLETE);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("property: a head it takes as plain, Node's own server reads the same way (method, target, headers, kept alive)", async () => {
    // Near-plain heads: the names llhttp reads itself, values with a rare odd byte (tab, CR, NUL, obs-text...).
    const odd = fc.constantFrom(' ', '\t', '\r', '\n', '\0', '\x7f', '\x80', '\xff', ':', '#', '?', '%', ';', ',', '"');
    const text = fc.array(fc.oneof({ weight: 30, arbitrary: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)) }, { weight: 1, arbitrary: odd }), { maxLength: 12 }).map((a) => a.join(''));
    const name = fc.oneof(fc.constantFrom('Host', 'content-length', 'Transfer-Encoding', 'Connection', 'Proxy-Connection', 'Upgrade', 'Expect', 'Cookie', 'Keep-Alive', 'TE', 'X-A'), fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/));
    const value = fc.oneof(fc.constantFrom('0', '00', 'keep-alive', 'Keep-Alive', 'close', 'chunked', 'upgrade', 'close, keep-alive'), text);
    const line = fc.tuple(name, fc.constantFrom(': ', ':', ':\t'), value, fc.constantFrom('', ' ', '\t'));
    const seen: Array<{ method: string; url: string; rawHeaders: string[] }> = [];
    const server = createServer((req, res) => {
      seen.push({ method: req.method!, url: req.url!, rawHeaders: req.rawHeaders });
      res.end('.');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    let plain = 0;
    try {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'), text, fc.array(line, { maxLength: 5 }), async (method, target, lines) => {
          let head = `${method} /${target} HTTP/1.1\r\nHost: h\r\n`;
          for (const [n, colon, v, tail] of lines) head += `${n}${colon}${v}${tail}\r\n`;
          head += '\r\n';
          const front = parse(head);
          if (typeof front === 'number') return;
          plain++;
          seen.length = 0;
          const client = await RawClient.open(port);
          try {
            // A second request behind it is served only if Node kept the connection alive.
            client.write(Buffer.from(head + 'GET /next HTTP/1.1\r\nHost: h\r\n\r\n', 'latin1'));
            await client.until((t) => (t.match(/HTTP\/1\.1 /g) ?? []).length === 2 && t.endsWith('.'), 3_000);
          } finally {
            client.destroy();
          }
          assert.equal(seen.length, 2, `Node did not serve it and the next one: ${JSON.stringify(head)}`);
          assert.deepEqual(seen[0], { method: front.method, url: front.url, rawHeaders: front.rawHeaders }, JSON.stringify(head));
        }),
        { numRuns: 3_000 },
      );
    } finally {
      server.close();
    }
    assert.ok(plain > 300, `only ${plain} plain heads were tried`);
  });
});
