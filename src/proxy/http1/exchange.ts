import type { Readable } from 'node:stream';
import type { ResponseHeaders } from './response-parser.js';

/** What the one who asked may do with an exchange under way. */
export interface ExchangeControl {
  /** Ends the exchange now: the connection is closed and `onError(err)` follows. */
  abort(err: Error): void;
  /** Stops reading the response (the client is slower than the app). */
  pause(): void;
  resume(): void;
  /** Request body bytes written to the app so far (counted where they are written, whatever their framing). */
  readonly bodyBytes: number;
}

/**
 * The callbacks of one request to an app, in order: onStart at once, then
 * onHead, onData..., onEnd; or onError at any point (nothing after it). They
 * are called synchronously from socket events and must not throw. An app's
 * 103 Early Hints come as onHead calls of status 103 before the final one
 * (the handler relays or ignores them; nothing else of the exchange changes).
 */
export interface ExchangeHandler {
  onStart(ctl: ExchangeControl): void;
  onHead(ctl: ExchangeControl, status: number, headers: ResponseHeaders, statusText: string): void;
  /**
   * `chunk` is a view of the connection's read buffer, which the next read may
   * overwrite: return true when nothing of it is kept after the call (it was
   * copied); anything else lends the buffer away and the connection reads into
   * a new one.
   */
  onData(ctl: ExchangeControl, chunk: Buffer): boolean | void;
  /**
   * A read from the app was parsed and the response goes on. A head held back to leave
   * with the first body bytes in one write goes now: an event stream's head may come
   * alone, with its first event minutes later.
   */
  onRead?(): void;
  onEnd(): void;
  onError(err: Error): void;
}

/** Chunks up to this size are copied by a handler that keeps them (ownChunk); larger ones lend the read buffer. */
export const OWN_CHUNK_LIMIT = 16 * 1024;

/**
 * A chunk the handler may keep past onData: a small one copied (from Node's buffer pool,
 * cheaper than the new 64 KiB read buffer a lent one costs the connection), a large one as
 * it is. `copied` is what onData returns.
 */
export function ownChunk(chunk: Buffer): { chunk: Buffer; copied: boolean } {
  return chunk.length <= OWN_CHUNK_LIMIT ? { chunk: Buffer.from(chunk), copied: true } : { chunk, copied: false };
}

export interface ExchangeRequest {
  method: string;
  /** The request target, already normalised by the proxy (no CR, LF or space). */
  path: string;
  /** [name, value, ...]; hop-by-hop headers are the caller's to remove. */
  headers: string[];
  /** Streamed as it arrives: as is when the headers carry Content-Length, else chunked. */
  body: Readable | null;
  /** Bound on waiting for the response head once the request is sent; 0: none. */
  headersTimeoutMs: number;
}

/** Upstream failures of berth's own client, named for classifyFailure. */
export class UpstreamConnectTimeoutError extends Error {
  readonly code = 'UPSTREAM_CONNECT_TIMEOUT';
  constructor(ms: number) {
    super(`no connection within ${ms / 1000} s`);
  }
}

export class UpstreamHeadersTimeoutError extends Error {
  readonly code = 'UPSTREAM_HEADERS_TIMEOUT';
  constructor(ms: number) {
    super(`no response within ${ms / 1000} s`);
  }
}

/** The app closed the connection before its response was complete. */
export class UpstreamClosedError extends Error {
  readonly code = 'UPSTREAM_CLOSED';
}

/** The pool was closed (its origin is gone, or the gateway stops). */
export class UpstreamPoolClosedError extends Error {
  readonly code = 'UPSTREAM_POOL_CLOSED';
}

/** Methods that mean the same sent twice, with no body: safe to resend on a fresh connection. */
export function isResendable(req: ExchangeRequest): boolean {
  return req.body === null && isIdempotentRead(req.method);
}

/** GET, HEAD and OPTIONS: sent twice without a body, they do no more than once. */
export function isIdempotentRead(method: string | undefined): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
}

/**
 * The request head as one buffer (one write). A body without Content-Length
 * goes chunked (see sendsChunked); a body-less POST, PUT or PATCH says
 * `content-length: 0` (servers answer 411 otherwise). Host is the upstream's
 * own when the client sent none (HTTP/1.0).
 *
 * Written into a buffer sized first, not concatenated: a string built of some
 * thirty pieces cost a rope of them and its flattened copy per request, the
 * largest allocation of the proxy's hot path (bench/README.md). Names and
 * values are latin1 (as Node reads them), one byte a character.
 */
export function requestHead(req: ExchangeRequest, hostFallback: string): Buffer {
  const h = req.headers;
  const method = req.method;
  let hasHost = false;
  let hasLength = false;
  let size = method.length + req.path.length + 14; // `M P HTTP/1.1\r\n`, and the blank line
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i]!;
    if (name.length === 4 && !hasHost) hasHost = name.toLowerCase() === 'host';
    else if (name.length === 14 && !hasLength) hasLength = name.toLowerCase() === 'content-length';
    size += name.length + h[i + 1]!.length + 4;
  }
  let tail = '';
  if (!hasHost) tail += `host: ${hostFallback}\r\n`;
  if (req.body !== null && !hasLength) tail += 'transfer-encoding: chunked\r\n';
  else if (req.body === null && !hasLength && (method === 'POST' || method === 'PUT' || method === 'PATCH')) tail += 'content-length: 0\r\n';
  size += tail.length;
  const buf = Buffer.allocUnsafe(size);
  let at = putLatin1(buf, 0, method);
  buf[at++] = 0x20;
  at = putLatin1(buf, at, req.path);
  at = putLatin1(buf, at, ' HTTP/1.1\r\n');
  for (let i = 0; i < h.length; i += 2) at = putHeaderLine(buf, at, h[i]!, h[i + 1]!);
  if (tail !== '') at = putLatin1(buf, at, tail);
  buf[at++] = 0x0d;
  buf[at] = 0x0a;
  return buf;
}

/** The request body goes chunked: it has no Content-Length (see requestHead). */
export function sendsChunked(req: ExchangeRequest): boolean {
  if (req.body === null) return false;
  const h = req.headers;
  for (let i = 0; i < h.length; i += 2) if (h[i]!.length === 14 && h[i]!.toLowerCase() === 'content-length') return false;
  return true;
}

/**
 * Writes `s` at `at` as latin1 (a character's low byte, as `'latin1'` writes do) and answers
 * the offset after it. Short strings, most header names and values, are copied here: a
 * call into the encoder costs more than the loop.
 */
export function putLatin1(buf: Buffer, at: number, s: string): number {
  const n = s.length;
  if (n > 24) return at + buf.write(s, at, n, 'latin1');
  for (let i = 0; i < n; i++) buf[at + i] = s.charCodeAt(i);
  return at + n;
}

/** Writes `name: value` and its CRLF at `at` (name.length + value.length + 4 bytes); returns where it ended. */
export function putHeaderLine(buf: Buffer, at: number, name: string, value: string): number {
  at = putLatin1(buf, at, name);
  buf[at++] = 0x3a; // :
  buf[at++] = 0x20;
  at = putLatin1(buf, at, value);
  buf[at++] = 0x0d;
  buf[at++] = 0x0a;
  return at;
}
