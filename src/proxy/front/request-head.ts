/**
 * The request heads berth's own HTTP/1.1 front serves itself (see
 * http1-front.ts): a strict recogniser of the plain, common case, not a
 * general parser. Whatever it does not recognise as plainly well-formed it
 * answers `OTHER`, and the connection goes to Node's HTTP server, which
 * parses, refuses (400, 431) or serves it as it always did. So this file
 * can never accept a request Node would refuse or read differently: it only
 * ever says "plain" or "not mine".
 *
 * Plain means: `METHOD /origin-form-target HTTP/1.1`, one of the usual
 * methods; header lines `name: value` ending in CRLF, the name an RFC 9110
 * token, the value visible ASCII, space and tab; exactly one Host; no body
 * (no Transfer-Encoding, a Content-Length of 0 at most); no Expect, Upgrade,
 * Proxy-Connection, or Connection other than keep-alive; and at most one of
 * each header berth reads (Cookie, Accept, X-Request-Id). Everything else (HTTP/1.0, bodies,
 * WebSocket handshakes, obs-fold, obs-text, absolute-form...) is `OTHER`.
 */

/** The head is not all there yet. */
export const INCOMPLETE = 0;
/** Not a plain request: Node's HTTP server takes the connection. */
export const OTHER = 1;

/**
 * The headers berth itself reads, by their lower-case names (the shape of
 * IncomingMessage's `headers`, for what the activator and balancer ask).
 */
export interface PlainHeaders {
  host: string;
  cookie?: string;
  accept?: string;
  'x-request-id'?: string;
  connection?: string;
}

export interface PlainRequestHead {
  method: string;
  /** The request target as sent; the proxy sets the normalised one here. */
  url: string;
  /** [name, value, ...] as sent, values without their surrounding spaces. */
  rawHeaders: string[];
  headers: PlainHeaders;
  /** Bytes of the head, its blank line included. */
  length: number;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
const END = Buffer.from('\r\n\r\n', 'latin1');
/** Node's default --max-http-header-size: a longer head is Node's to refuse. */
export const MAX_PLAIN_HEAD = 16 * 1024;

/**
 * The plain request head at the start of `buf`, INCOMPLETE while its blank
 * line has not arrived (and the bytes stay under MAX_PLAIN_HEAD), or OTHER.
 */
export function parsePlainRequestHead(buf: Buffer, maxHeaders: number): PlainRequestHead | typeof INCOMPLETE | typeof OTHER {
  const end = buf.indexOf(END);
  if (end < 0) return buf.length > MAX_PLAIN_HEAD || !couldBePlain(buf) ? OTHER : INCOMPLETE;
  if (end + 4 > MAX_PLAIN_HEAD) return OTHER;
  const text = buf.toString('latin1', 0, end);
  let lineEnd = text.indexOf('\r\n');
  if (lineEnd < 0) lineEnd = text.length;
  const sp1 = text.indexOf(' ');
  if (sp1 < 3 || sp1 > 7) return OTHER;
  const method = text.slice(0, sp1);
  if (!METHODS.has(method)) return OTHER;
  // ' HTTP/1.1' closes the line; the target is everything between.
  if (lineEnd - sp1 < 11 || !text.startsWith(' HTTP/1.1', lineEnd - 9)) return OTHER;
  const targetEnd = lineEnd - 9;
  if (text.charCodeAt(sp1 + 1) !== 0x2f /* / */) return OTHER;
  for (let i = sp1 + 1; i < targetEnd; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return OTHER;
  }
  const url = text.slice(sp1 + 1, targetEnd);
  const rawHeaders: string[] = [];
  let host: string | undefined;
  let cookie: string | undefined;
  let accept: string | undefined;
  let requestId: string | undefined;
  let connection: string | undefined;
  let sawLength = false;
  let at = lineEnd + 2;
  while (at < text.length) {
    let next = text.indexOf('\r\n', at);
    if (next < 0) next = text.length;
    const colon = text.indexOf(':', at);
    if (colon <= at || colon >= next) return OTHER;
    for (let i = at; i < colon; i++) {
      const c = text.charCodeAt(i);
      if (c >= 128 || TOKEN[c] === 0) return OTHER;
    }
    let from = colon + 1;
    let to = next;
    while (from < to && (text.charCodeAt(from) === 0x20 || text.charCodeAt(from) === 0x09)) from++;
    while (to > from && (text.charCodeAt(to - 1) === 0x20 || text.charCodeAt(to - 1) === 0x09)) to--;
    for (let i = from; i < to; i++) {
      const c = text.charCodeAt(i);
      if ((c < 0x20 && c !== 0x09) || c >= 0x7f) return OTHER;
    }
    const name = text.slice(at, colon);
    const value = text.slice(from, to);
    at = next + 2;
    if (rawHeaders.length >= maxHeaders * 2) return OTHER;
    rawHeaders.push(name, value);
    // Only names as long as one berth reads are lower-cased (no allocation for the rest).
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === 'host') {
          if (host !== undefined || value === '') return OTHER;
          host = value;
        }
        break;
      case 6: {
        const lower = name.toLowerCase();
        if (lower === 'cookie') {
          if (cookie !== undefined) return OTHER;
          cookie = value;
        } else if (lower === 'accept') {
          if (accept !== undefined) return OTHER;
          accept = value;
        } else if (lower === 'expect') return OTHER;
        break;
      }
      case 7:
        if (name.toLowerCase() === 'upgrade') return OTHER;
        break;
      case 10:
        if (name.toLowerCase() === 'connection') {
          if (connection !== undefined || value.toLowerCase() !== 'keep-alive') return OTHER;
          connection = value;
        }
        break;
      case 12:
        if (name.toLowerCase() === 'x-request-id') {
          if (requestId !== undefined) return OTHER;
          requestId = value;
        }
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') {
          // Node refuses a repeated Content-Length, and a tab after its digits (spaces it takes); anything
          // but 0 is a body, which Node's server streams.
          if (sawLength || value !== '0' || text.lastIndexOf('\t', next - 1) >= from) return OTHER;
          sawLength = true;
        }
        break;
      case 16:
        // llhttp reads Proxy-Connection as Connection: `close` there ends the connection in Node's server.
        if (name.toLowerCase() === 'proxy-connection') return OTHER;
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') return OTHER;
        break;
    }
  }
  if (host === undefined) return OTHER;
  const headers: PlainHeaders = { host };
  if (cookie !== undefined) headers.cookie = cookie;
  if (accept !== undefined) headers.accept = accept;
  if (requestId !== undefined) headers['x-request-id'] = requestId;
  if (connection !== undefined) headers.connection = connection;
  return { method, url, rawHeaders, headers, length: end + 4 };
}

/**
 * Whether the start of a head could still become a plain one: a method's
 * capitals up to a space, and only printable ASCII, tab, CR and LF. Anything
 * else (a TLS ClientHello, binary junk) goes to Node's parser at once, to be
 * refused there, instead of waiting out the header timeout here.
 */
function couldBePlain(buf: Buffer): boolean {
  const methodEnd = Math.min(buf.length, 8);
  let i = 0;
  for (; i < methodEnd; i++) {
    const c = buf[i]!;
    if (c === 0x20) break;
    if (c < 0x41 || c > 0x5a) return false;
  }
  if (i === 8) return false;
  for (; i < buf.length; i++) {
    const c = buf[i]!;
    if (c >= 0x7f || (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d)) return false;
    // Lines end in CRLF: a bare LF or CR is Node's to read (or refuse).
    if (c === 0x0a && buf[i - 1] !== 0x0d) return false;
    if (c === 0x0d && i + 1 < buf.length && buf[i + 1] !== 0x0a) return false;
  }
  return true;
}

const TOKEN = new Uint8Array(128);
for (let c = 0; c < 128; c++) if (/[A-Za-z0-9!#$%&'*+.^_`|~-]/.test(String.fromCharCode(c))) TOKEN[c] = 1;
