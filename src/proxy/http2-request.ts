import type { IncomingHttpHeaders } from 'node:http';
import { normalizeHost } from './request-host.js';

/** What of an HTTP/2 request (node:http2's compatibility API) adaptHttp2Request reads and fixes. */
export interface Http2RequestParts {
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  /** END_STREAM came with the headers: the request has no body. */
  stream: { endAfterHeaders: boolean };
}

/**
 * Makes an HTTP/2 request look to the proxy as the HTTP/1.1 request it is sent
 * upstream as (RFC 9113 §8.3.1, §8.2.3):
 *
 * - `:path` must be a request-target (RFC 9113 §8.3.1), i.e. ASCII: raw
 *   bytes past 0x7f in its query are refused, as Node's HTTP/1.1 parser
 *   refuses them in a target (the path part is refused by request-path.ts).
 *   Node reads them as latin1, so the app got the bytes as sent but the
 *   history and the access log recorded mojibake (`Ã©`), and one request
 *   meant one thing over HTTP/1.1 (refused) and another over HTTP/2;
 * - `:authority` is the Host (RFC 9113 §8.3.1); a Host field that names
 *   another host is a malformed request, refused: one request with two names
 *   is how routing and whatever sits behind berth get told apart (the same rule
 *   as for an absolute-form target over HTTP/1.1, see request-target.ts);
 * - a body without Content-Length (HTTP/2 frames it itself) is marked chunked,
 *   so it is streamed on (Transfer-Encoding is hop-by-hop: never forwarded);
 * - Cookie fields, which HTTP/2 clients split for compression, are joined
 *   into one with "; ", as an HTTP/1.1 app expects a single Cookie header;
 * - pseudo-headers (`:path`…) leave the raw list, so the header-count limit
 *   (limits.requestHeaders) counts what the app would get, as over HTTP/1.1.
 *
 * Mutates `req`. Answers why the request is malformed (a 400), or undefined.
 */
export function adaptHttp2Request(req: Http2RequestParts): string | undefined {
  const headers = req.headers;
  const path = headers[':path'];
  if (typeof path === 'string' && nonAsciiQuery(path)) return 'a raw byte outside ASCII in the request target (RFC 9113 §8.3.1): percent-encode it';
  const authority = headers[':authority'];
  if (typeof authority === 'string') {
    if (headers.host !== undefined && headers.host !== authority && !sameHost(authority, headers.host)) return 'the Host header names another host than :authority';
    headers.host = authority;
  }
  if (headers['content-length'] === undefined && !req.stream.endAfterHeaders) headers['transfer-encoding'] = 'chunked';
  const raw = req.rawHeaders;
  let first = -1;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.charCodeAt(0) === 58 /* : */) {
      raw.splice(i, 2);
      i -= 2;
      continue;
    }
    if (raw[i]!.toLowerCase() !== 'cookie') continue;
    if (first < 0) {
      first = i;
      continue;
    }
    raw[first + 1] += `; ${raw[i + 1]}`;
    raw.splice(i, 2);
    i -= 2;
  }
  return undefined;
}

/**
 * Whether `:path` has a character past 0x7f from its first `?` on (the query,
 * and a fragment after it). Only from there: the path part is request-path.ts's to refuse, so a
 * target without a query costs one indexOf. nghttp2 already refuses controls
 * and spaces in `:path`; this is the one gap it leaves.
 */
function nonAsciiQuery(path: string): boolean {
  const q = path.indexOf('?');
  if (q < 0) return false;
  for (let i = q + 1; i < path.length; i++) if (path.charCodeAt(i) > 0x7f) return true;
  return false;
}

/**
 * Whether a Host field names the host of `:authority` (case, a trailing dot and
 * the port aside). An `:authority` that is not a host at all is left for the
 * proxy's own check to refuse; a Host that is not (or is several) conflicts.
 */
function sameHost(authority: string, host: string | string[]): boolean {
  const named = normalizeHost(authority);
  if ('status' in named) return true;
  if (typeof host !== 'string') return false;
  const given = normalizeHost(host);
  return !('status' in given) && given.host === named.host;
}

/** What of an HTTP/2 response (node:http2's compatibility API) adaptHttp2Response reads. */
export interface Http2ResponseParts {
  stream: { readonly closed: boolean; readonly destroyed: boolean };
}

/**
 * Gives an HTTP/2 response the `destroyed` of an HTTP/1.1 one: true once the
 * client is gone. Node's Http2ServerResponse has no such property (it is not a
 * Writable), so the proxy's "is the client still there?" read undefined: a
 * request held for a cold start and cancelled meanwhile (RST_STREAM) was sent
 * to the app once it was ready, and a stream of such cancels (rapid reset)
 * became as many requests to an app that had just started. Its stream is what
 * closes when the client resets it.
 *
 * Mutates `res`.
 */
export function adaptHttp2Response(res: Http2ResponseParts): void {
  const stream = res.stream;
  Object.defineProperty(res, 'destroyed', { get: () => stream.closed || stream.destroyed, configurable: true });
}
