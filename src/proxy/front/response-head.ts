import { STATUS_CODES } from 'node:http';
import { putLatin1 } from '../http1/exchange.js';
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
 * written as they came, repeated fields one line each. The parser refused CR,
 * LF and other control characters in names, values and the status text, so
 * nothing here can split the head.
 *
 * Sized first, then written (no string concatenation): the rope of pieces and
 * its flattened copy were a tenth of what the hot path allocated.
 */
export function responseHead(status: number, statusText: string, headers: ResponseHeaders, add: HeadAdditions, room = 0): Buffer {
  const reason = statusText === '' ? (STATUS_CODES[status] ?? '') : statusText;
  // The lines berth adds, after the app's: a short string, built once.
  let tail = '';
  if (headers['x-request-id'] === undefined) tail += `x-request-id: ${add.requestId}\r\n`;
  if (headers.date === undefined) tail += `date: ${add.date}\r\n`;
  if (add.setCookie !== undefined) tail += `set-cookie: ${add.setCookie}\r\n`;
  if (add.hsts !== undefined && headers['strict-transport-security'] === undefined) tail += `strict-transport-security: ${add.hsts}\r\n`;
  if (add.chunked) tail += 'transfer-encoding: chunked\r\n';
  if (add.close) tail += 'connection: close\r\n';
  let size = reason.length + tail.length + 17; // `HTTP/1.1 200 ` and its CRLF, and the blank line
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
  for (const name in headers) {
    const value = headers[name]!;
    if (typeof value === 'string') at = putLine(buf, at, name, value);
    else for (let i = 0; i < value.length; i++) at = putLine(buf, at, name, value[i]!);
  }
  at = putLatin1(buf, at, tail);
  buf[at++] = 0x0d;
  buf[at] = 0x0a;
  return buf;
}

function putLine(buf: Buffer, at: number, name: string, value: string): number {
  at = putLatin1(buf, at, name);
  buf[at++] = 0x3a; // :
  buf[at++] = 0x20;
  at = putLatin1(buf, at, value);
  buf[at++] = 0x0d;
  buf[at++] = 0x0a;
  return at;
}

/** Whether a response to `method` with `status` carries no body, whatever its headers say (RFC 9110 §6.4.1). */
export function hasNoBody(method: string, status: number): boolean {
  return method === 'HEAD' || status === 204 || status === 304;
}
