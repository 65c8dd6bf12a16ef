import type { Readable } from 'node:stream';
import type { ResponseHeaders } from './response-parser.js';

/** What the one who asked may do with an exchange under way. */
export interface ExchangeControl {
  /** Ends the exchange now: the connection is closed and `onError(err)` follows. */
  abort(err: Error): void;
  /** Stops reading the response (the client is slower than the app). */
  pause(): void;
  resume(): void;
}

/**
 * The callbacks of one request to an app, in order: onStart at once, then
 * onHead, onData..., onEnd; or onError at any point (nothing after it). They
 * are called synchronously from socket events and must not throw.
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
 * The request head as one latin1 string (one write). A body without
 * Content-Length goes chunked; a body-less POST, PUT or PATCH says
 * `content-length: 0` (servers answer 411 otherwise). Host is the upstream's
 * own when the client sent none (HTTP/1.0).
 */
export function requestHead(req: ExchangeRequest, hostFallback: string): { head: string; chunked: boolean } {
  const h = req.headers;
  let head = `${req.method} ${req.path} HTTP/1.1\r\n`;
  let hasHost = false;
  let hasLength = false;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i]!;
    if (name.length === 4 && !hasHost) hasHost = name.toLowerCase() === 'host';
    else if (name.length === 14 && !hasLength) hasLength = name.toLowerCase() === 'content-length';
    head += `${name}: ${h[i + 1]}\r\n`;
  }
  if (!hasHost) head += `host: ${hostFallback}\r\n`;
  let chunked = false;
  if (req.body !== null && !hasLength) {
    head += 'transfer-encoding: chunked\r\n';
    chunked = true;
  } else if (req.body === null && !hasLength && (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH')) {
    head += 'content-length: 0\r\n';
  }
  return { head: head + '\r\n', chunked };
}
