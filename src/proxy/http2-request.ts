import type { IncomingHttpHeaders } from 'node:http';

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
 * - `:authority` stands for Host when there is none;
 * - a body without Content-Length (HTTP/2 frames it itself) is marked chunked,
 *   so it is streamed on (Transfer-Encoding is hop-by-hop: never forwarded);
 * - Cookie fields, which HTTP/2 clients split for compression, are joined
 *   into one with "; ", as an HTTP/1.1 app expects a single Cookie header;
 * - pseudo-headers (`:path`…) leave the raw list, so the header-count limit
 *   (limits.requestHeaders) counts what the app would get, as over HTTP/1.1.
 *
 * Mutates `req`.
 */
export function adaptHttp2Request(req: Http2RequestParts): void {
  const headers = req.headers;
  if (headers.host === undefined && typeof headers[':authority'] === 'string') headers.host = headers[':authority'];
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
}
