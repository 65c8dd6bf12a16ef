import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BadUpstreamResponseError, keepAliveTimeoutMs, parseChunkSize, parseStatusLine, ResponseParser, type ResponseHeaders } from '../../src/proxy/http1/response-parser.js';

interface Parsed {
  heads: { status: number; text: string; headers: ResponseHeaders }[];
  body: string;
  ends: number;
  keepAlive: boolean;
  leftover: boolean;
  /** The body ran until close (set only when `closeAfter`). */
  endedByClose: boolean;
}

/** Feeds `pieces` in order; `closeAfter` closes the connection afterwards. */
function parse(pieces: (string | Buffer)[], options: { head?: boolean; closeAfter?: boolean } = {}): Parsed {
  const out: Parsed = { heads: [], body: '', ends: 0, keepAlive: false, leftover: false, endedByClose: false };
  const parser = new ResponseParser({
    onHead: (status, text, headers) => out.heads.push({ status, text, headers }),
    onBody: (chunk) => (out.body += chunk.toString('latin1')),
    onEnd: () => out.ends++,
  });
  parser.begin(options.head === true);
  for (const p of pieces) parser.execute(typeof p === 'string' ? Buffer.from(p, 'latin1') : p);
  if (options.closeAfter) out.endedByClose = parser.closed() && out.ends === 1;
  out.keepAlive = parser.keepAlive;
  out.leftover = parser.leftover;
  return out;
}

const bad = (pieces: string[], why: RegExp, options?: { head?: boolean }) => assert.throws(() => parse(pieces, options), (err: unknown) => err instanceof BadUpstreamResponseError && why.test(err.message));

test('well-formed responses: framing, keep-alive and headers', async (t) => {
  const cases: [string, string[], { status: number; body: string; keepAlive: boolean; ends: number; headers?: Record<string, unknown>; head?: boolean; close?: boolean }][] = [
    ['content-length body', ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'], { status: 200, body: 'hello', keepAlive: true, ends: 1 }],
    ['content-length 0', ['HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'], { status: 200, body: '', keepAlive: true, ends: 1 }],
    ['repeated equal content-length', ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok'], { status: 200, body: 'ok', keepAlive: true, ends: 1 }],
    ['comma list of equal content-length', ['HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok'], { status: 200, body: 'ok', keepAlive: true, ends: 1 }],
    ['chunked', ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n'], { status: 200, body: 'hello world', keepAlive: true, ends: 1 }],
    ['chunked with extensions and upper-case hex', ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nA;name=value\r\n0123456789\r\n0\r\n\r\n'], { status: 200, body: '0123456789', keepAlive: true, ends: 1 }],
    ['chunked with trailers', ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-Checksum: 1\r\nX-More: 2\r\n\r\n'], { status: 200, body: 'ok', keepAlive: true, ends: 1 }],
    ['connection: close', ['HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok'], { status: 200, body: 'ok', keepAlive: false, ends: 1 }],
    ['HTTP/1.0 is not kept alive', ['HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok'], { status: 200, body: 'ok', keepAlive: false, ends: 1 }],
    ['no framing: the body runs until close', ['HTTP/1.1 200 OK\r\n\r\nsome', ' bytes'], { status: 200, body: 'some bytes', keepAlive: false, ends: 1, close: true }],
    ['204 has no body whatever it says, and no Content-Length is relayed (RFC 9110 §8.6)', ['HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n'], { status: 204, body: '', keepAlive: true, ends: 1, headers: { 'content-length': undefined } }],
    ['304 keeps its Content-Length (the representation\'s)', ['HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n'], { status: 304, body: '', keepAlive: true, ends: 1, headers: { 'content-length': '50' } }],
    ['304 has no body', ['HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n'], { status: 304, body: '', keepAlive: true, ends: 1 }],
    ['HEAD: no body despite the length', ['HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n'], { status: 200, body: '', keepAlive: true, ends: 1, head: true }],
    ['interim 100 and 103 are skipped', ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx'], { status: 201, body: 'x', keepAlive: true, ends: 1 }],
    ['duplicate headers become a list; names lower-cased; values trimmed', ['HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSET-COOKIE:b=2 \r\nX-Empty:\r\nContent-Length: 0\r\n\r\n'], { status: 200, body: '', keepAlive: true, ends: 1, headers: { 'set-cookie': ['a=1', 'b=2'], 'x-empty': '' } }],
    ['an empty reason phrase', ['HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n'], { status: 200, body: '', keepAlive: true, ends: 1 }],
    ['no reason phrase at all', ['HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n'], { status: 404, body: '', keepAlive: true, ends: 1 }],
    // Names of Object.prototype's members are plain header names (a TypeError here was a 502).
    ['headers named like Object members', ['HTTP/1.1 200 OK\r\nConstructor: a\r\ntoString: b\r\nhasOwnProperty: c\r\nvalueOf: d\r\nvalueOf: e\r\n__proto__: x\r\nContent-Length: 0\r\n\r\n'], { status: 200, body: '', keepAlive: true, ends: 1, headers: { constructor: 'a', tostring: 'b', hasownproperty: 'c', valueof: ['d', 'e'] } }],
    // One Content-Length is relayed, whatever way the app repeated it: a list or two fields break clients (llhttp refuses both).
    ['repeated content-length is relayed once', ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nok'], { status: 200, body: 'ok', keepAlive: true, ends: 1, headers: { 'content-length': '2' } }],
    ['a content-length list is relayed as one value', ['HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok'], { status: 200, body: 'ok', keepAlive: true, ends: 1, headers: { 'content-length': '2' } }],
    ['content-length with leading zeros', ['HTTP/1.1 200 OK\r\nContent-Length: 0002\r\n\r\nok'], { status: 200, body: 'ok', keepAlive: true, ends: 1 }],
    ['a 304 with Transfer-Encoding has no body', ['HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n'], { status: 304, body: '', keepAlive: true, ends: 1, headers: { 'transfer-encoding': undefined } }],
    ['a chunk extension just under the line bound', [`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=${'e'.repeat(4000)}\r\nok\r\n0\r\n\r\n`], { status: 200, body: 'ok', keepAlive: true, ends: 1 }],
    ['10000 one-byte chunks', [`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${'1\r\nx\r\n'.repeat(10000)}0\r\n\r\n`], { status: 200, body: 'x'.repeat(10000), keepAlive: true, ends: 1 }],
  ];
  for (const [name, pieces, want] of cases) {
    await t.test(name, () => {
      const got = parse(pieces, { head: want.head, closeAfter: want.close });
      assert.equal(got.heads.length, 1, 'one final head');
      assert.equal(got.heads[0]!.status, want.status);
      assert.equal(got.body, want.body);
      assert.equal(got.ends, want.ends);
      assert.equal(got.keepAlive, want.keepAlive);
      if (want.close) assert.equal(got.endedByClose, true);
      for (const [k, v] of Object.entries(want.headers ?? {})) assert.deepEqual(got.heads[0]!.headers[k], v);
    });
  }
});

test('malformed or ambiguous responses are refused with the reason', async (t) => {
  const cases: [string, string[], RegExp][] = [
    ['4-digit status', ['HTTP/1.1 2000 OK\r\n\r\n'], /three digits/],
    ['status 600', ['HTTP/1.1 600 Weird\r\n\r\n'], /not an HTTP status/],
    ['status 099', ['HTTP/1.1 099 Low\r\n\r\n'], /not an HTTP status/],
    ['another protocol', ['SSH-2.0-OpenSSH_9.6\r\n\r\n'], /HTTP\/1 status line/],
    ['HTTP/2 preface-like version', ['HTTP/2.0 200 OK\r\n\r\n'], /HTTP\/1 status line/],
    ['HTTP/1.2', ['HTTP/1.2 200 OK\r\n\r\n'], /unsupported HTTP version/],
    ['a header without a colon', ['HTTP/1.1 200 OK\r\nBad Header\r\nContent-Length: 2\r\n\r\nok'], /without a colon/],
    ['a space before the colon', ['HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n'], /invalid header name/],
    ['obsolete line folding', ['HTTP/1.1 200 OK\r\nX-A: 1\r\n  continued: 2\r\n\r\n'], /folded header line/],
    ['NUL in a value', ['HTTP/1.1 200 OK\r\nX-Nul: a\0b\r\n\r\n'], /control character/],
    ['bare CR in a value', ['HTTP/1.1 200 OK\r\nX-Cr: a\rb\r\n\r\n'], /control character/],
    ['bare LF in a value line', ['HTTP/1.1 200 OK\r\nX-Lf: a\nb: c\r\n\r\n'], /control character|without a colon/],
    ['two content-lengths', ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\nok'], /two different Content-Length/],
    ['a signed content-length', ['HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok'], /invalid Content-Length/],
    ['content-length and transfer-encoding', ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n'], /both Content-Length and Transfer-Encoding/],
    ['gzip under chunked (it would reach the client unannounced)', ['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nzz\r\n0\r\n\r\n'], /transfer coding berth cannot relay/],
    ['a coding other than chunked, read until the close', ['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz'], /transfer coding berth cannot relay/],
    ['chunked twice', ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'], /transfer coding berth cannot relay/],
    ['chunk size not hex', ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n'], /invalid chunk size/],
    ['chunk size overflowing', ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n'], /invalid chunk size/],
    ['chunk data without CRLF after it', ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX'], /without its CRLF/],
    ['a head over 16 KiB', [`HTTP/1.1 200 OK\r\nX-Big: ${'b'.repeat(17 * 1024)}\r\n\r\n`], /larger than/],
    ['101 to a plain request', ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\n\r\n'], /switched protocols/],
    ['a control character in the reason', ['HTTP/1.1 200 O\x01K\r\n\r\n'], /control character in its status line/],
    ['a chunk extension past the line bound, across reads', ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=', 'e'.repeat(3000), 'e'.repeat(3000), '\r\nok\r\n0\r\n\r\n'], /overlong chunk-size line/],
    ['trailers over the head bound', [`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${'X-T: v\r\n'.repeat(3000)}\r\n`], /trailers are larger/],
  ];
  for (const [name, pieces, why] of cases) await t.test(name, () => bad(pieces, why));
});

test('a head that never ends is refused once it passes the bound, across reads', () => {
  const parser = new ResponseParser({ onHead: () => undefined, onBody: () => undefined, onEnd: () => undefined });
  parser.begin(false);
  parser.execute(Buffer.from('HTTP/1.1 200 OK\r\n'));
  assert.throws(() => {
    for (let i = 0; i < 40; i++) parser.execute(Buffer.from(`X-H${i}: ${'v'.repeat(500)}\r\n`));
  }, BadUpstreamResponseError);
});

test('bytes after the end of a response are noted (the connection is not reused)', () => {
  assert.equal(parse(['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokGARBAGE']).leftover, true);
  assert.equal(parse(['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok']).leftover, false);
  assert.equal(parse(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX']).leftover, true);
});

test('a response cut short is not complete when the connection closes', () => {
  const parser = new ResponseParser({ onHead: () => undefined, onBody: () => undefined, onEnd: () => assert.fail('no end') });
  parser.begin(false);
  parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort'));
  assert.equal(parser.closed(), false);
});

test('the same response split anywhere, in any number of reads, parses the same', () => {
  const responses = [
    'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n5;x=y\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nTrailer: t\r\n\r\n',
    'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n',
  ];
  for (const text of responses) {
    const whole = parse([text]);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: text.length - 1 }), { maxLength: 12 }), (cuts) => {
        const sorted = [...cuts].sort((a, b) => a - b);
        const pieces: string[] = [];
        let from = 0;
        for (const c of sorted) {
          pieces.push(text.slice(from, c));
          from = c;
        }
        pieces.push(text.slice(from));
        const got = parse(pieces);
        assert.equal(got.body, whole.body);
        assert.equal(got.ends, 1);
        assert.equal(got.heads.length, 1);
        assert.deepEqual(got.heads[0], whole.heads[0]);
        assert.equal(got.leftover, false);
      }),
      { numRuns: 300 },
    );
  }
});

test('status lines, chunk sizes and keep-alive hints, read alone', () => {
  assert.deepEqual(parseStatusLine('HTTP/1.1 503 Service Unavailable'), { status: 503, statusText: 'Service Unavailable', http10: false });
  assert.deepEqual(parseStatusLine('HTTP/1.0 200 OK'), { status: 200, statusText: 'OK', http10: true });
  assert.equal(parseChunkSize('1f\r'), 31);
  assert.equal(parseChunkSize('0 ;ext\r'), 0);
  assert.throws(() => parseChunkSize('1f'), BadUpstreamResponseError);
  assert.throws(() => parseChunkSize('-1\r'), BadUpstreamResponseError);
  assert.throws(() => parseChunkSize('1 2\r'), BadUpstreamResponseError);
  assert.equal(keepAliveTimeoutMs('timeout=5'), 5000);
  assert.equal(keepAliveTimeoutMs('max=100, timeout=2'), 2000);
  assert.equal(keepAliveTimeoutMs('max=100'), 0);
});

test('a one-byte trailer line is not the blank line that ends the message, in one read or split', () => {
  for (const pieces of [['0\r\nX\n\r\n'], ['0\r\nX', '\n\r\n'], ['0\r\n', 'X\n', '\r', '\n']]) {
    const got = parse(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', ...pieces]);
    assert.equal(got.ends, 1);
    assert.equal(got.leftover, false, JSON.stringify(pieces));
  }
});

test('Keep-Alive: timeout=0 means the app closes at once: the connection is not kept', () => {
  assert.equal(parse(['HTTP/1.1 200 OK\r\nKeep-Alive: timeout=0\r\nContent-Length: 0\r\n\r\n']).keepAlive, false);
  assert.equal(parse(['HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\nContent-Length: 0\r\n\r\n']).keepAlive, true);
  assert.equal(parse(['HTTP/1.1 200 OK\r\nKeep-Alive: max=5\r\nContent-Length: 0\r\n\r\n']).keepAlive, true);
});

test('a head whose lines end in a bare LF is refused as soon as one is read, not once its CRLFCRLF comes (it never does)', () => {
  const bytes = (s: string) => [...s].map((c) => c);
  for (const text of ['HTTP/1.1 200 OK\nContent-Length: 2\n\nok', 'HTTP/1.1 200 OK\r\nContent-Length: 2\n\r\nok', 'HTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 200 OK\nX: y\n\n']) {
    // Whole, and one byte a read: no CRLFCRLF ever comes, yet the refusal does.
    bad([text], /bare LF/);
    bad(bytes(text), /bare LF/);
  }
  // A CRLF head split anywhere, one byte a read included (the CR and its LF in two reads), is read as before.
  const good = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-A: b\r\nContent-Length: 2\r\n\r\nok';
  const got = parse(bytes(good));
  assert.equal(got.heads[0]?.status, 200);
  assert.equal(got.body, 'ok');
  assert.equal(got.ends, 1);
});

test('an interim head with a bare LF or CR in its lines is refused, not skipped with the final answer it hides', () => {
  // Read with LF line ends, this is a 100, a 200 of no body and a 302 after it: skipping the interim head up to
  // the first CRLFCRLF took the 302 for the answer to this request.
  const hidden = 'HTTP/1.1 100 Continue\r\nX: y\n\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n';
  bad([hidden], /bare LF/);
  bad([...hidden], /bare LF/);
  bad(['HTTP/1.1 103 Early Hints\r\nLink: </a.css>\rX: y\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'], /bare LF or CR/);
  bad(['HTTP/1.1 102 Processing\r\nX: y\r\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'], /bare LF or CR/);
  // Well-formed interim heads, fields and all, are skipped as before.
  const got = parse(['HTTP/1.1 102 Processing\r\nX: y\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok']);
  assert.deepEqual([got.heads.map((h) => h.status), got.body, got.ends], [[200], 'ok', 1]);
});

test("103 Early Hints reach a sink that takes them, end-to-end fields only; a malformed one is dropped, never a failure", () => {
  const hints: ResponseHeaders[] = [];
  const heads: number[] = [];
  const parser = new ResponseParser({ onHead: (status) => heads.push(status), onBody: () => undefined, onEnd: () => undefined, onEarlyHints: (h) => hints.push(h) });
  parser.begin(false);
  parser.execute(
    Buffer.from(
      'HTTP/1.1 100 Continue\r\n\r\n' +
        'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\nLink: </b.js>; rel=preload\r\nConnection: keep-alive\r\nContent-Length: 9\r\n\r\n' +
        'HTTP/1.1 103 Early Hints\r\nLink </c.css>\r\n\r\n' +
        'HTTP/1.1 103 Early Hints\r\nLink: </d.css>\x01\r\n\r\n' +
        'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
      'latin1',
    ),
  );
  assert.deepEqual(hints, [{ link: ['</a.css>; rel=preload', '</b.js>; rel=preload'] }]);
  assert.deepEqual(heads, [200]);
  assert.equal(parser.done, true);
});

test('an app that sends 103s without end has only the first few handed on; its final answer is read as before', () => {
  let hints = 0;
  const parser = new ResponseParser({ onHead: () => undefined, onBody: () => undefined, onEnd: () => undefined, onEarlyHints: () => hints++ });
  for (const round of [1, 2]) {
    parser.begin(false);
    for (let i = 0; i < 50; i++) parser.execute(Buffer.from('HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n', 'latin1'));
    parser.execute(Buffer.from('HTTP/1.1 204 No Content\r\n\r\n', 'latin1'));
    assert.equal(parser.done, true);
    // The bound is per response: the connection's next one gets its own.
    assert.equal(hints, 4 * round);
  }
});
