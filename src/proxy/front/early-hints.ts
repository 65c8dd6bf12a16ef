import type { ResponseHeaders } from '../http1/response-parser.js';

/**
 * The interim 103 Early Hints head the front sends for an app's hints, exactly as Node's
 * `writeEarlyHints` writes it on the full path (forward-http.ts), so the client cannot tell
 * which path served it (README: "only hints with a well-formed Link, as Node sends them"):
 * undefined (nothing sent) unless every Link value is one link of the form Node accepts;
 * then `Link` first, its values joined with `, `, and the app's other fields after it in their
 * order, a repeated one joined with `,` (Node writes `String(value)`). The parser refused CR,
 * LF and other control characters in names and values, so nothing here can split the head.
 * Not the hot path: a string is fine.
 */
export function earlyHintsHead(headers: ResponseHeaders): Buffer | undefined {
  const link = headers.link;
  if (link === undefined) return undefined;
  const links = typeof link === 'string' ? [link] : link;
  if (links.length === 0) return undefined;
  for (const value of links) if (!LINK_VALUE.test(value)) return undefined;
  let head = `HTTP/1.1 103 Early Hints\r\nLink: ${links.join(', ')}\r\n`;
  for (const name in headers) {
    if (name === 'link') continue;
    const value = headers[name]!;
    head += `${name}: ${typeof value === 'string' ? value : value.join(',')}\r\n`;
  }
  return Buffer.from(`${head}\r\n`, 'latin1');
}

/**
 * One link as Node's `validateLinkHeaderValue` (lib/internal/validators.js) accepts it: a URI
 * reference in angle brackets, then `; param` or `; param=value` (quoted or not). A list of links
 * in one value (`</a>; rel=preload, </b>; rel=preload`) fails it, and Node sends no hints then.
 */
const LINK_VALUE = /^(?:<[^>]*>)(?:\s*;\s*[^;"\s]+(?:=(")?[^;"\s]*\1)?)*$/;
