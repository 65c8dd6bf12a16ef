import { putHeaderLine, putLatin1 } from '../http1/exchange.js';
import type { ResponseHeaders } from '../http1/response-parser.js';

/** What berth adds to the app's response head on its way to the client. */
export interface HeadAdditions {
  /** Sent as `x-request-id` unless the app answered one itself. */
  requestId: string;
  /** The HTTP date of this second, sent unless the app sent a Date (as Node's server does). */
  date: string;
  /** A sticky-session cookie for this client (the balancer's), or undefined. */
  setCookie: string | undefined;
  /** Strict-Transport-Security (over TLS, for an app with `hsts`), sent unless the app sent its own (as Node's merge does). */
  hsts?: string;
  /** The body goes chunked: the app's had no Content-Length (chunked, or until its close). */
  chunked: boolean;
  /** The connection ends after this response. */
  close: boolean;
}

/**
 * The client's response head for an app's response, in one buffer with
 * `room` bytes left free after it (for the first body bytes, so that both
 * leave in one write; see fast-exchange.ts). `headers` are the parser's
 * end-to-end fields (hop-by-hop ones already left out, lower-case names),
 * written as they came, repeated fields one line each, after the app's status
 * text (empty if it sent none); berth's lines after them, but for the HSTS and
 * a sticky pin, which lead, in the order Node's path writes them all. The
 * parser refused CR, LF and other control characters in names, values and the
 * status text, so nothing here can split the head.
 *
 * Sized first, then written (no string concatenation): the rope of pieces and
 * its flattened copy were a tenth of what the hot path allocated.
 */
export function responseHead(status: number, statusText: string, headers: ResponseHeaders, add: HeadAdditions, room = 0): Buffer {
  // The app's reason as it sent it, an empty one too (`HTTP/1.1 200 `), as Node's writeHead relays it on the
  // full path: a standard text put in its place told the client which path served it.
  const reason = statusText;
  // The lines berth adds, after the app's: each written as it is, never concatenated (a
  // concatenation is a rope that the write flattens into a copy).
  const requestId = headers['x-request-id'] === undefined ? add.requestId : undefined;
  const date = headers.date === undefined ? add.date : undefined;
  const hsts = add.hsts !== undefined && headers['strict-transport-security'] === undefined ? add.hsts : undefined;
  // But the HSTS and the sticky pin lead, as on Node's path (proxy-server's handle and forward), which sets them on
  // the response before the app's head is merged into it: there the app's own HSTS takes the place of berth's, and
  // the app's cookies come before the pin, at the head's top. (Neither is asked of the plain, common response.)
  const leadHsts = add.hsts !== undefined;
  const leadCookies = add.setCookie !== undefined;
  let size = reason.length + 17; // `HTTP/1.1 200 ` and its CRLF, and the blank line
  if (requestId !== undefined) size += requestId.length + 16;
  if (date !== undefined) size += date.length + 8;
  if (add.setCookie !== undefined) size += add.setCookie.length + 14;
  if (hsts !== undefined) size += hsts.length + 29;
  if (add.chunked) size += CHUNKED_LINE.length;
  if (add.close) size += CLOSE_LINE.length;
  for (const name in headers) {
    const value = headers[name]!;
    if (typeof value === 'string') size += name.length + value.length + 4;
    else for (let i = 0; i < value.length; i++) size += name.length + value[i]!.length + 4;
  }
  const buf = Buffer.allocUnsafe(size + room);
  let at = putLatin1(buf, 0, 'HTTP/1.1 ');
  buf[at++] = 0x30 + Math.floor(status / 100);
  buf[at++] = 0x30 + (Math.floor(status / 10) % 10);
  buf[at++] = 0x30 + (status % 10);
  buf[at++] = 0x20;
  at = putLatin1(buf, at, reason);
  buf[at++] = 0x0d;
  buf[at++] = 0x0a;
  if (leadHsts) {
    const own = headers['strict-transport-security'];
    at = own === undefined ? putHeaderLine(buf, at, 'strict-transport-security', hsts!) : putField(buf, at, 'strict-transport-security', own);
  }
  if (leadCookies) {
    const own = headers['set-cookie'];
    if (own !== undefined) at = putField(buf, at, 'set-cookie', own);
    at = putHeaderLine(buf, at, 'set-cookie', add.setCookie!);
  }
  for (const name in headers) {
    if ((leadHsts && name === 'strict-transport-security') || (leadCookies && name === 'set-cookie')) continue;
    at = putField(buf, at, name, headers[name]!);
  }
  if (requestId !== undefined) at = putHeaderLine(buf, at, 'x-request-id', requestId);
  if (date !== undefined) at = putHeaderLine(buf, at, 'date', date);
  if (add.chunked) at = putLatin1(buf, at, CHUNKED_LINE);
  if (add.close) at = putLatin1(buf, at, CLOSE_LINE);
  buf[at++] = 0x0d;
  buf[at] = 0x0a;
  return buf;
}

/** Writes a field's line, or one line per value of a repeated one; returns where it ended. */
function putField(buf: Buffer, at: number, name: string, value: string | string[]): number {
  if (typeof value === 'string') return putHeaderLine(buf, at, name, value);
  for (let i = 0; i < value.length; i++) at = putHeaderLine(buf, at, name, value[i]!);
  return at;
}

const CHUNKED_LINE = 'transfer-encoding: chunked\r\n';
const CLOSE_LINE = 'connection: close\r\n';

/** Whether a response to `method` with `status` carries no body, whatever its headers say (RFC 9110 §6.4.1). */
export function hasNoBody(method: string, status: number): boolean {
  return method === 'HEAD' || status === 204 || status === 304;
}
