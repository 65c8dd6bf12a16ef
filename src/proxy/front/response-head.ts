import { STATUS_CODES } from 'node:http';
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
 * The client's response head for an app's response, as one latin1 string
 * (one write). `headers` are the parser's end-to-end fields (hop-by-hop ones
 * already left out, lower-case names), written as they came, repeated fields
 * one line each. The parser refused CR, LF and other control characters in
 * names, values and the status text, so nothing here can split the head.
 */
export function responseHead(status: number, statusText: string, headers: ResponseHeaders, add: HeadAdditions): string {
  let head = `HTTP/1.1 ${status} ${statusText === '' ? (STATUS_CODES[status] ?? '') : statusText}\r\n`;
  for (const name in headers) {
    const value = headers[name]!;
    if (typeof value === 'string') head += `${name}: ${value}\r\n`;
    else for (let i = 0; i < value.length; i++) head += `${name}: ${value[i]}\r\n`;
  }
  if (headers['x-request-id'] === undefined) head += `x-request-id: ${add.requestId}\r\n`;
  if (headers.date === undefined) head += `date: ${add.date}\r\n`;
  if (add.setCookie !== undefined) head += `set-cookie: ${add.setCookie}\r\n`;
  if (add.hsts !== undefined && headers['strict-transport-security'] === undefined) head += `strict-transport-security: ${add.hsts}\r\n`;
  if (add.chunked) head += 'transfer-encoding: chunked\r\n';
  if (add.close) head += 'connection: close\r\n';
  return head + '\r\n';
}

/** Whether a response to `method` with `status` carries no body, whatever its headers say (RFC 9110 §6.4.1). */
export function hasNoBody(method: string, status: number): boolean {
  return method === 'HEAD' || status === 204 || status === 304;
}
