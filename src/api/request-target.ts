/**
 * The request target of an admin request, parsed without WHATWG URL: that parser
 * throws on targets like `//%zz`, reads `//evil.com/v1/apps` as a host plus a path,
 * and decodes `%2e%2e` into a dot segment. Only two forms are taken (RFC 9112
 * §3.2): origin-form (`/path?query`) and absolute-form (`http://host/path?query`),
 * whose authority then stands for the Host header.
 */
import { hostNameOf } from './admin-host.js';

export type AdminTarget =
  | { ok: true; path: string; query: URLSearchParams; authority?: string }
  | { ok: false; message: string };

/** `%` must start a two-digit hex escape; anything else is malformed. */
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;
/** Characters RFC 3986 never allows raw in a path or query (controls, space, `"<>\^`{|}`, non-ASCII). */
const BAD_CHAR = /[^\x21-\x7e]|["<>\\^`{|}]/;
const ABSOLUTE = /^(https?):\/\/([^/?#]*)(.*)$/i;

export function parseAdminTarget(target: string): AdminTarget {
  if (target.includes('#')) return { ok: false, message: 'a request target must not carry a fragment' };
  if (BAD_CHAR.test(target)) return { ok: false, message: 'the request target contains characters that must be percent-encoded' };
  let rest = target;
  let authority: string | undefined;
  if (!target.startsWith('/')) {
    const m = ABSOLUTE.exec(target);
    if (!m) return { ok: false, message: 'the request target must be a path ("/v1/…") or an absolute http:// URL' };
    authority = m[2]!;
    if (authority === '' || authority.includes('@')) return { ok: false, message: 'the absolute request target needs a host and no user info' };
    if (hostNameOf(authority) === undefined) return { ok: false, message: 'the absolute request target has a malformed host' };
    rest = m[3] === '' ? '/' : m[3]!;
    if (!rest.startsWith('/')) return { ok: false, message: 'the absolute request target has no path' };
  }
  // `//x` would be read by URL parsers downstream as a host; nothing berth serves starts so.
  if (rest.startsWith('//')) return { ok: false, message: 'the path must not start with "//"' };
  const q = rest.indexOf('?');
  const path = q < 0 ? rest : rest.slice(0, q);
  const query = q < 0 ? '' : rest.slice(q + 1);
  if (BAD_PERCENT.test(path) || BAD_PERCENT.test(query)) return { ok: false, message: 'the request target has a "%" that does not start a two-digit hex escape' };
  if (safeDecode(path) === undefined) return { ok: false, message: 'the path has percent-escapes that are not valid UTF-8' };
  return authority === undefined ? { ok: true, path, query: new URLSearchParams(query) } : { ok: true, path, query: new URLSearchParams(query), authority };
}

/** decodeURIComponent that answers undefined instead of throwing (bad escapes, invalid UTF-8). */
export function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
