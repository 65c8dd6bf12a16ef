import type { Expect } from './expect-outcome.js';
import type { RawOutcome, Step } from './raw-http.js';

/** What a case may use to build its bytes, for the listener it runs against. */
export interface CaseContext {
  listener: 'proxy' | 'admin';
  /** Host header value that listener answers to: 127.0.0.1:PORT. */
  host: string;
  /** A target the listener serves with 200: /s/LIVE/echo on the proxy, /v1/apps on the admin listener. */
  target: string;
  /** Target prefix: /s/LIVE on the proxy (the app sees what follows), /v1 on the admin listener. */
  base: string;
  /** `Authorization: Bearer T\r\n` on the admin listener, empty on the proxy. */
  auth: string;
  /** The running app's name. */
  app: string;
}

export interface ClientCase {
  name: string;
  /** Which listeners it runs against. */
  on: 'both' | 'proxy' | 'admin';
  send: (c: CaseContext) => string | Buffer | Step[];
  expect: Expect | ((c: CaseContext) => Expect);
  /** A further check of what came back (e.g. what the app saw); returns why it fails. */
  check?: (o: RawOutcome, c: CaseContext) => string | undefined;
  /** Time bound of the exchange; default 3000 ms. */
  timeoutMs?: number;
  /** Complete responses to wait for (pipelining); 0: wait for the close. */
  responses?: number;
  headRequests?: boolean;
}

const get = (c: CaseContext, target: string, headers = '') => `GET ${target} HTTP/1.1\r\nHost: ${c.host}\r\n${c.auth}${headers}\r\n`;
const BAD: Expect = { statuses: [400], close: 'allowed' };
const BAD_4XX: Expect = { statuses: ['4xx'], close: 'allowed' };
const OK: Expect = { statuses: [200] };
const ANY: Expect = { statuses: ['2xx', '3xx', '4xx', '5xx'], close: 'allowed' };
/** A framing error: refused, and the connection must not be reused (or closed without answer). */
const FRAMING: Expect = { statuses: ['4xx', 501], close: 'after' };

/** What the test app's echo saw: {path, url, headers}; undefined if the body is not its JSON. */
export function echoed(o: RawOutcome): { path: string; url: string; headers: Record<string, string> } | undefined {
  const r = o.responses[0];
  if (!r || r.status !== 200) return undefined;
  try {
    return JSON.parse(r.body.toString()) as { path: string; url: string; headers: Record<string, string> };
  } catch {
    return undefined;
  }
}

function appSawPath(want: string) {
  return (o: RawOutcome, c: CaseContext) => {
    if (c.listener !== 'proxy') return undefined;
    const seen = echoed(o);
    if (!seen) return `expected the app's echo, got status ${o.responses[0]?.status}`;
    return seen.url === want ? undefined : `the app received ${JSON.stringify(seen.url)}, expected exactly ${JSON.stringify(want)}`;
  };
}

const manyHeaders = (n: number) => Array.from({ length: n }, (_, i) => `X-Fill-${i}: v\r\n`).join('');

/**
 * Hostile and malformed requests, one exchange each. Expectations are the
 * correct behaviour per issue 9 (what must hold, points 1 to 3), not today's.
 */
export const clientCases: ClientCase[] = [
  // --- request line
  { name: 'garbage request line', on: 'both', send: () => 'GARBAGE\r\n\r\n', expect: BAD },
  { name: 'method only', on: 'both', send: () => 'GET\r\n\r\n', expect: BAD },
  // RFC 9112 lets a server parse these leniently: only a well-formed answer (or close) is required.
  { name: 'HTTP/0.9 simple request', on: 'both', send: () => 'GET /\r\n\r\n', expect: ANY },
  { name: 'unknown HTTP version 9.9', on: 'both', send: (c) => `GET ${c.target} HTTP/9.9\r\nHost: ${c.host}\r\n\r\n`, expect: { statuses: [400, 505], close: 'allowed' } },
  { name: 'extra token after version', on: 'both', send: (c) => `GET ${c.target} HTTP/1.1 x\r\nHost: ${c.host}\r\n\r\n`, expect: BAD },
  { name: 'double space in request line', on: 'both', send: (c) => `GET  ${c.target}  HTTP/1.1\r\nHost: ${c.host}\r\n\r\n`, expect: ANY },
  { name: 'lower-case method', on: 'both', send: (c) => `get ${c.target} HTTP/1.1\r\nHost: ${c.host}\r\n${c.auth}\r\n`, expect: BAD_4XX },
  { name: 'unknown method token', on: 'both', send: (c) => `FOO ${c.target} HTTP/1.1\r\nHost: ${c.host}\r\n${c.auth}\r\n`, expect: { statuses: ['4xx', 501], close: 'allowed' } },
  { name: 'method with invalid characters', on: 'both', send: (c) => `G@T ${c.target} HTTP/1.1\r\nHost: ${c.host}\r\n\r\n`, expect: BAD },
  { name: 'CONNECT to an authority', on: 'both', send: (c) => `CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n${c.auth}\r\n`, expect: { statuses: ['4xx', 501], close: 'allowed' } },
  { name: 'TLS ClientHello bytes', on: 'both', send: () => Buffer.from('160301020001000200030379b0c2', 'hex'), expect: BAD },
  { name: 'binary garbage with NULs', on: 'both', send: () => Buffer.from([0, 1, 2, 0xff, 0xfe, 13, 10, 13, 10]), expect: BAD },
  { name: 'only blank lines, then half-close', on: 'both', send: () => ['\r\n\r\n\r\n', { end: true }], expect: { close: 'required' } },
  { name: 'request line of 100 KiB', on: 'both', send: (c) => `GET ${c.base}/${'a'.repeat(100 * 1024)} HTTP/1.1\r\nHost: ${c.host}\r\n\r\n`, expect: { statuses: [414, 431, 400], close: 'allowed' } },

  // --- headers
  { name: 'missing Host (HTTP/1.1)', on: 'both', send: (c) => `GET ${c.target} HTTP/1.1\r\n${c.auth}\r\n`, expect: BAD },
  { name: 'duplicate Host, different values', on: 'both', send: (c) => get(c, c.target, 'Host: other.example\r\n'), expect: BAD },
  { name: 'duplicate Host, same value', on: 'both', send: (c) => get(c, c.target, `Host: ${c.host}\r\n`), expect: BAD },
  { name: 'empty Host', on: 'both', send: (c) => `GET ${c.target} HTTP/1.1\r\nHost: \r\n${c.auth}\r\n`, expect: BAD },
  { name: 'Host with a space', on: 'both', send: (c) => `GET ${c.target} HTTP/1.1\r\nHost: a b\r\n${c.auth}\r\n`, expect: BAD },
  { name: 'Host with a slash and a path', on: 'both', send: (c) => `GET ${c.target} HTTP/1.1\r\nHost: 127.0.0.1/evil\r\n${c.auth}\r\n`, expect: BAD },
  { name: 'Host with userinfo', on: 'both', send: (c) => `GET ${c.target} HTTP/1.1\r\nHost: user@${c.host}\r\n${c.auth}\r\n`, expect: BAD },
  { name: 'Host with angle brackets', on: 'both', send: (c) => `GET ${c.target} HTTP/1.1\r\nHost: <script>\r\n${c.auth}\r\n`, expect: BAD },
  { name: 'Host with only a port', on: 'both', send: (c) => `GET ${c.target} HTTP/1.1\r\nHost: :80\r\n${c.auth}\r\n`, expect: BAD },
  { name: 'Host with a non-numeric port', on: 'both', send: (c) => `GET ${c.target} HTTP/1.1\r\nHost: 127.0.0.1:8x\r\n${c.auth}\r\n`, expect: BAD },
  { name: 'Host with a trailing dot is matched as without it', on: 'proxy', send: (c) => get(c, `${c.base}/echo`).replace(`Host: ${c.host}`, 'Host: localhost.'), expect: OK },
  { name: 'Host in upper case', on: 'proxy', send: (c) => get(c, `${c.base}/echo`).replace(`Host: ${c.host}`, 'Host: LOCALHOST'), expect: OK },
  { name: 'header line without a colon', on: 'both', send: (c) => get(c, c.target, 'X-No-Colon here\r\n'), expect: BAD },
  { name: 'space before the colon', on: 'both', send: (c) => get(c, c.target, 'X-Spaced : v\r\n'), expect: BAD },
  { name: 'invalid character in a header name', on: 'both', send: (c) => get(c, c.target, 'X(A): v\r\n'), expect: BAD },
  { name: 'obs-fold continuation line', on: 'both', send: (c) => get(c, c.target, 'X-Folded: a\r\n  b\r\n'), expect: BAD },
  { name: 'NUL in a header value', on: 'both', send: (c) => get(c, c.target, 'X-Nul: a\0b\r\n'), expect: BAD },
  { name: 'bare CR in a header value', on: 'both', send: (c) => get(c, c.target, 'X-Cr: a\rb\r\n'), expect: BAD },
  { name: 'bare LF in a header value', on: 'both', send: (c) => get(c, c.target, 'X-Lf: a\nb\r\n'), expect: BAD },
  { name: 'DEL and obs-text in a header value', on: 'both', send: (c) => Buffer.from(get(c, c.target, 'X-Obs: a\x7fb\xe9\r\n'), 'latin1'), expect: ANY },
  { name: 'one header of 100 KiB', on: 'both', send: (c) => get(c, c.target, `X-Big: ${'b'.repeat(100 * 1024)}\r\n`), expect: { statuses: [431], close: 'allowed' } },
  { name: '2100 headers (more than Node keeps)', on: 'both', send: (c) => get(c, c.target, manyHeaders(2100)), expect: { statuses: [431], close: 'allowed' } },
  {
    name: 'POST whose Content-Length comes after 2100 headers is refused, not truncated',
    on: 'both',
    send: (c) => `POST ${c.target} HTTP/1.1\r\nHost: ${c.host}\r\n${c.auth}${manyHeaders(2100)}Content-Length: 5\r\n\r\nhello`,
    expect: { statuses: [431], close: 'allowed' },
  },
  {
    name: 'forged identity headers are replaced',
    on: 'proxy',
    send: (c) => get(c, `${c.base}/echo`, 'Forwarded: for=6.6.6.6\r\nX-Real-IP: 6.6.6.6\r\nX-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Host: evil.example\r\nX-Forwarded-Prefix: /evil\r\n'),
    expect: OK,
    check: (o) => {
      const seen = echoed(o);
      if (!seen) return 'no echo';
      const bad = Object.entries(seen.headers).filter(([, v]) => String(v).includes('6.6.6.6') || String(v).includes('evil'));
      return bad.length ? `forged identity reached the app: ${JSON.stringify(bad)}` : undefined;
    },
  },
  {
    name: 'underscore header that frameworks fold into X-Forwarded-For is not forwarded',
    on: 'proxy',
    send: (c) => get(c, `${c.base}/echo`, 'X_Forwarded_For: 6.6.6.6\r\n'),
    expect: { statuses: [200, 400] },
    check: (o) => (echoed(o) && JSON.stringify(echoed(o)!.headers).includes('6.6.6.6') ? 'x_forwarded_for reached the app' : undefined),
  },

  // --- targets
  { name: 'absolute-form target matching Host', on: 'proxy', send: (c) => get(c, `http://${c.host}${c.base}/echo`), expect: { statuses: [200, 400] } },
  { name: 'absolute-form target with another host', on: 'both', send: (c) => get(c, `http://evil.example${c.target}`), expect: { statuses: [400, 421, 404] } },
  { name: 'absolute-form https target', on: 'both', send: (c) => get(c, `https://${c.host}${c.target}`), expect: { statuses: [200, 400, 421] } },
  { name: 'asterisk-form OPTIONS', on: 'both', send: (c) => `OPTIONS * HTTP/1.1\r\nHost: ${c.host}\r\n${c.auth}\r\n`, expect: { statuses: ['2xx', '4xx'], close: 'allowed' } },
  { name: 'asterisk-form GET', on: 'both', send: (c) => get(c, '*'), expect: BAD_4XX },
  { name: 'authority-form target on GET', on: 'both', send: (c) => get(c, c.host), expect: BAD_4XX },
  { name: 'target //%zz (no valid URL)', on: 'both', send: (c) => get(c, '//%zz'), expect: BAD },
  { name: 'target //%zz without a token', on: 'admin', send: (c) => `GET //%zz HTTP/1.1\r\nHost: ${c.host}\r\n\r\n`, expect: { statuses: [400, 401] } },
  { name: 'target //[ (invalid IPv6 authority)', on: 'both', send: (c) => get(c, '//['), expect: BAD_4XX },
  { name: 'invalid percent-encoding %zz', on: 'both', send: (c) => get(c, `${c.base}/a%zzb`), expect: BAD },
  { name: 'truncated percent-encoding %4', on: 'both', send: (c) => get(c, `${c.base}/a%4`), expect: BAD },
  { name: 'lone percent sign', on: 'both', send: (c) => get(c, `${c.base}/%`), expect: BAD },
  { name: 'invalid UTF-8 %ff%fe', on: 'both', send: (c) => get(c, `${c.base}/%ff%fe`), expect: BAD },
  { name: 'overlong UTF-8 slash %c0%af', on: 'both', send: (c) => get(c, `${c.base}/%c0%af`), expect: BAD },
  { name: 'raw UTF-8 bytes in the target', on: 'both', send: (c) => Buffer.from(get(c, `${c.base}/é`), 'utf8'), expect: ANY },
  { name: 'dot segments that leave the route', on: 'proxy', send: (c) => get(c, `${c.base}/../../etc/passwd`), expect: { statuses: [404, 400] } },
  { name: 'dot segments inside the route reach the app resolved', on: 'proxy', send: (c) => get(c, `${c.base}/a/./b/../echo`), expect: OK, check: appSawPath('/a/echo') },
  { name: 'dot segments into the route are routed after resolving', on: 'proxy', send: (c) => get(c, `/s/elsewhere/../..${c.base}/echo`), expect: OK, check: appSawPath('/echo') },
  { name: 'percent-encoded dot segments do not escape the route', on: 'proxy', send: (c) => get(c, `${c.base}/%2e%2e/%2e%2e/etc/passwd`), expect: { statuses: [400, 404] } },
  { name: 'dot segments on the admin listener', on: 'admin', send: (c) => get(c, '/v1/apps/../../etc/passwd'), expect: { statuses: [400, 404] } },
  { name: 'fragment is never forwarded', on: 'proxy', send: (c) => get(c, `${c.base}/echo?q=1#frag`), expect: { statuses: [200, 400] }, check: (o) => (echoed(o)?.url.includes('frag') ? `the app received the fragment: ${echoed(o)!.url}` : undefined) },
  { name: 'backslashes in the target', on: 'both', send: (c) => get(c, `${c.base}\\..\\..\\etc`), expect: ANY },
  { name: 'encoded NUL in the target', on: 'both', send: (c) => get(c, `${c.base}/a%00b`), expect: ANY },
  { name: 'the berth prefix with junk', on: 'proxy', send: (c) => get(c, '/_berth/%zz/../..'), expect: BAD_4XX },

  // --- API and berth endpoint parameters: never a 5xx for what the client got wrong
  { name: 'API path parameter with invalid percent-encoding', on: 'admin', send: (c) => get(c, '/v1/apps/%zz'), expect: { statuses: [400, 404] } },
  { name: 'API path parameter with truncated UTF-8', on: 'admin', send: (c) => get(c, '/v1/apps/%E0%A4%A'), expect: { statuses: [400, 404] } },
  { name: 'API path parameter with encoded slashes and dots', on: 'admin', send: (c) => get(c, '/v1/apps/..%2F..%2Fetc'), expect: { statuses: [400, 404] } },
  { name: 'API query with invalid values', on: 'admin', send: (c) => get(c, `/v1/apps/${c.app}/history?limit=-1&since=%zz&until=1e309`), expect: { statuses: [200, 400] } },
  { name: 'API log tail of 1e309 lines', on: 'admin', send: (c) => get(c, `/v1/apps/${c.app}/logs?tail=1e309`), expect: { statuses: [200, 400] } },
  { name: 'API body that is not JSON', on: 'admin', send: (c) => `POST /v1/apps HTTP/1.1\r\nHost: ${c.host}\r\n${c.auth}Content-Type: application/json\r\nContent-Length: 9\r\n\r\n{"a":1,,}`, expect: { statuses: [400, 415, 422] } },
  { name: 'API body nested 100000 deep', on: 'admin', send: (c) => `POST /v1/apps HTTP/1.1\r\nHost: ${c.host}\r\n${c.auth}Content-Type: application/json\r\nContent-Length: 200000\r\n\r\n${'['.repeat(100_000)}${']'.repeat(100_000)}`, expect: { statuses: [400, 413, 422] } },
  { name: 'API body with __proto__ keys', on: 'admin', send: (c) => { const body = '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}},"apiVersion":"berth/v1"}'; return `POST /v1/apps HTTP/1.1\r\nHost: ${c.host}\r\n${c.auth}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`; }, expect: { statuses: [400, 422] } },
  { name: 'API body of 20 MiB', on: 'admin', send: (c) => [`POST /v1/apps HTTP/1.1\r\nHost: ${c.host}\r\n${c.auth}Content-Type: application/json\r\nContent-Length: 20971520\r\n\r\n`, Buffer.alloc(4 * 1024 * 1024, 0x20)], expect: { statuses: [413, 400], close: 'allowed' }, timeoutMs: 5000 },
  { name: 'berth status endpoint with invalid percent-encoding', on: 'proxy', send: (c) => get(c, '/_berth/status/%zz'), expect: BAD_4XX },
  { name: 'berth input endpoint with junk', on: 'proxy', send: (c) => get(c, '/_berth/input/%E0?secret=%zz&secret=x'), expect: BAD_4XX },
  { name: 'berth prefix alone', on: 'proxy', send: (c) => get(c, '/_berth/'), expect: BAD_4XX },

  // --- bodies and framing (request smuggling)
  { name: 'Content-Length and Transfer-Encoding together', on: 'both', send: (c) => `POST ${c.target} HTTP/1.1\r\nHost: ${c.host}\r\n${c.auth}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n`, expect: FRAMING, responses: 0 },
  { name: 'two different Content-Length values', on: 'both', send: (c) => `POST ${c.target} HTTP/1.1\r\nHost: ${c.host}\r\n${c.auth}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`, expect: FRAMING, responses: 0 },
  { name: 'Content-Length list "5, 6"', on: 'both', send: (c) => `POST ${c.target} HTTP/1.1\r\nHost: ${c.host}\r\n${c.auth}Content-Length: 5, 6\r\n\r\nhello!`, expect: FRAMING, responses: 0 },
  { name: 'signed Content-Length +5', on: 'both', send: (c) => `POST ${c.target} HTTP/1.1\r\nHost: ${c.host}\r\n${c.auth}Content-Length: +5\r\n\r\nhello`, expect: FRAMING, responses: 0 },
  { name: 'negative Content-Length', on: 'both', send: (c) => `POST ${c.target} HTTP/1.1\r\nHost: ${c.host}\r\n${c.auth}Content-Length: -1\r\n\r\n`, expect: FRAMING, responses: 0 },
  { name: 'Content-Length beyond 2^53', on: 'both', send: (c) => `POST ${c.target} HTTP/1.1\r\nHost: ${c.host}\r\n${c.auth}Content-Length: 99999999999999999999\r\n\r\n`, expect: { statuses: ['4xx'], close: 'allowed' } },
  { name: 'Transfer-Encoding: xchunked', on: 'both', send: (c) => `POST ${c.target} HTTP/1.1\r\nHost: ${c.host}\r\n${c.auth}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`, expect: FRAMING, responses: 0 },
  { name: 'Transfer-Encoding: chunked, identity', on: 'both', send: (c) => `POST ${c.target} HTTP/1.1\r\nHost: ${c.host}\r\n${c.auth}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`, expect: FRAMING, responses: 0 },
  { name: 'two Transfer-Encoding headers', on: 'both', send: (c) => `POST ${c.target} HTTP/1.1\r\nHost: ${c.host}\r\n${c.auth}Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n0\r\n\r\n`, expect: FRAMING, responses: 0 },
  { name: 'Transfer-Encoding on HTTP/1.0', on: 'both', send: (c) => `POST ${c.target} HTTP/1.0\r\nHost: ${c.host}\r\n${c.auth}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, expect: { statuses: ['2xx', '4xx'], close: 'allowed' } },
  { name: 'bad chunk size', on: 'both', send: (c) => `POST ${c.target} HTTP/1.1\r\nHost: ${c.host}\r\n${c.auth}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`, expect: { statuses: ['4xx', '5xx'], close: 'allowed' } },
  { name: 'chunk size overflow', on: 'both', send: (c) => `POST ${c.target} HTTP/1.1\r\nHost: ${c.host}\r\n${c.auth}Transfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\nhello\r\n`, expect: { statuses: ['4xx', '5xx'], close: 'allowed' } },
  { name: 'chunk without CRLF after data', on: 'both', send: (c) => `POST ${c.target} HTTP/1.1\r\nHost: ${c.host}\r\n${c.auth}Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n`, expect: { statuses: ['4xx', '5xx'], close: 'allowed' } },
  { name: 'Content-Length larger than the body, then half-close', on: 'both', send: (c) => [`POST ${c.target} HTTP/1.1\r\nHost: ${c.host}\r\n${c.auth}Content-Length: 1000\r\n\r\nshort`, { end: true }], expect: { statuses: ['4xx', '5xx'], close: 'allowed' } },
  { name: 'smuggled request inside a chunked body is not answered separately', on: 'proxy', send: (c) => `POST ${c.base}/echo HTTP/1.1\r\nHost: ${c.host}\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n0\r\n\r\nGET ${c.base}/smuggled HTTP/1.1\r\nHost: ${c.host}\r\n\r\n`, expect: FRAMING, responses: 0 },

  // --- pipelining and keep-alive
  { name: 'three pipelined GETs', on: 'both', send: (c) => get(c, c.target).repeat(3), expect: { statuses: [200, 200, 200], count: 3 }, responses: 3 },
  {
    name: 'pipelined GET, POST with body, GET',
    on: 'proxy',
    send: (c) => get(c, `${c.base}/echo`) + `POST ${c.base}/upload HTTP/1.1\r\nHost: ${c.host}\r\nContent-Length: 5\r\n\r\nhello` + get(c, `${c.base}/ping`),
    expect: { statuses: [200, 200, 200], count: 3 },
    responses: 3,
  },
  // RFC 9112 §9.6 lets a client half-close after its request; HAProxy and nginx still answer it.
  { name: 'complete request, then half-close, still gets its answer', on: 'both', send: (c) => [get(c, c.target, 'Connection: close\r\n'), { end: true }], expect: { statuses: [200] } },
  { name: 'GET with a body', on: 'proxy', send: (c) => `GET ${c.base}/echo HTTP/1.1\r\nHost: ${c.host}\r\nContent-Length: 5\r\n\r\nhello`, expect: OK },
  { name: 'HEAD', on: 'both', send: (c) => `HEAD ${c.target} HTTP/1.1\r\nHost: ${c.host}\r\n${c.auth}\r\n`, expect: { statuses: [200, 405] }, headRequests: true },
  { name: 'Expect: 100-continue', on: 'proxy', send: (c) => [`POST ${c.base}/upload HTTP/1.1\r\nHost: ${c.host}\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n`, { pauseMs: 100 }, 'hello'], expect: { statuses: [200, 417] } },
  { name: 'Expect: something-else', on: 'both', send: (c) => get(c, c.target, 'Expect: 999-weird\r\n'), expect: { statuses: [417, 200, 400] } },
  { name: 'HTTP/1.0 without Host', on: 'proxy', send: (c) => `GET ${c.base}/echo HTTP/1.0\r\n\r\n`, expect: { statuses: [200, 400], close: 'after' }, responses: 0 },

  // --- upgrades
  {
    name: 'Upgrade: h2c is served as plain HTTP without the upgrade',
    on: 'proxy',
    send: (c) => get(c, `${c.base}/echo`, 'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n'),
    expect: OK,
    check: (o) => {
      const seen = echoed(o);
      if (!seen) return 'no echo from the app';
      return seen.headers.upgrade !== undefined ? `the app received upgrade: ${seen.headers.upgrade}` : undefined;
    },
  },
  { name: 'Upgrade: foo on the admin listener', on: 'admin', send: (c) => get(c, c.target, 'Connection: Upgrade\r\nUpgrade: foo\r\n'), expect: { statuses: [200, 400], close: 'allowed' } },
  { name: 'WebSocket handshake to the admin listener', on: 'admin', send: (c) => get(c, c.target, 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n'), expect: { statuses: ['2xx', '4xx'], close: 'allowed' } },
  {
    name: 'websocket handshake answered with a refusal is relayed, no tunnel',
    on: 'proxy',
    send: (c) => [get(c, `${c.base}/not-ws`, 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n'), { waitForHead: true, timeoutMs: 3000 }, get(c, `${c.base}/echo`)],
    // The app refuses with 404 and closes; a second request on the same connection must not go through a tunnel.
    expect: { statuses: [404], close: 'allowed' },
    responses: 0,
  },
];
