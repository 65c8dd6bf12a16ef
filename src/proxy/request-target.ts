import { normalizeHost } from './request-host.js';
import { normalizePath } from './request-path.js';

/** A request reduced to what berth routes on and sends to the app. */
export interface NormalTarget {
  /** For matching: lower case, no port, no trailing dot; '' for an HTTP/1.0 request without Host. */
  host: string;
  /** The Host to send upstream (and in X-Forwarded-Host): `host` plus the port, if any. */
  authority: string;
  /** Normalised path, starting with `/` (see request-path.ts). */
  path: string;
  /** `?` and the query as the client sent it, or ''; the fragment is dropped. */
  query: string;
}

/** A request that cannot be normalised: answered with `status` and never routed. */
export interface TargetRefusal {
  status: 400;
  reason: string;
}

/**
 * Normalises a request target (origin- or absolute-form) and its Host header,
 * or says why it is refused. A pure function: the proxy routes only what this
 * returns, and sends the app exactly that.
 *
 * - Host: absent on HTTP/1.1, repeated, or invalid → 400 (RFC 9112 §3.2).
 * - Absolute-form (`http://h/p`): the target's authority is what the app is
 *   sent as Host (RFC 9112 §3.2.2); a Host header naming another host, a scheme
 *   other than http(s), or userinfo (`http://u@h/`) → 400.
 * - Asterisk-form (`*`) and authority-form (`h:443`) → 400: berth routes no
 *   server-wide OPTIONS and tunnels nothing with CONNECT.
 * - The fragment (`#…`) is dropped, never forwarded.
 *
 * `host` is the first Host value, if any; `hostCount` how many Host lines the
 * request had (from rawHeaders: Node keeps only the first); `hostRequired`
 * is true for HTTP/1.1, where Host is mandatory (HTTP/1.0 may go without).
 */
export function normalizeRequest(target: string, host: string | undefined, hostCount: number, hostRequired: boolean): NormalTarget | TargetRefusal {
  if (hostCount > 1) return refuse('more than one Host header');
  if (hostCount === 0 && hostRequired) return refuse('no Host header (HTTP/1.1 requires one)');
  let hostValue = host;
  let rest = target;
  if (target.charCodeAt(0) !== 47 /* / */) {
    if (target === '*') return refuse('asterisk-form request target (*) is not served');
    const schemeEnd = absoluteSchemeEnd(target);
    if (schemeEnd < 0) return refuse('the request target must be a path or an http(s) URL');
    let end = schemeEnd;
    while (end < target.length && !AUTHORITY_END.has(target.charCodeAt(end))) end++;
    const authority = target.slice(schemeEnd, end);
    if (authority.includes('@')) return refuse('userinfo in the request target is not allowed');
    // The target's authority is what the app is sent (RFC 9112 §3.2.2). A Host naming another
    // host is refused rather than ignored: two names for one request are how routing and
    // caches behind berth get confused (HAProxy refuses it too).
    if (host !== undefined) {
      const given = normalizeHost(host);
      if ('status' in given) return given;
      const named = normalizeHost(authority);
      if (!('status' in named) && named.host !== given.host) return refuse('the Host header names another host than the absolute request target');
    }
    hostValue = authority;
    rest = end < target.length ? target.slice(end) : '/';
    if (rest.charCodeAt(0) !== 47) rest = '/' + rest; // `http://h?q` has an empty path
  }
  let hostname = '';
  let authority = '';
  if (hostValue !== undefined) {
    const normal = normalizeHost(hostValue);
    if ('status' in normal) return normal;
    hostname = normal.host;
    authority = normal.authority;
  }
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  const path = normalizePath(q < 0 ? rest : rest.slice(0, q));
  if (typeof path !== 'string') return path;
  return { host: hostname, authority, path, query: q < 0 ? '' : rest.slice(q) };
}

/** Where the authority starts in `http://` or `https://` (any case), or -1. */
function absoluteSchemeEnd(target: string): number {
  const colon = target.indexOf('://');
  if (colon !== 4 && colon !== 5) return -1;
  const scheme = target.slice(0, colon).toLowerCase();
  return scheme === 'http' || scheme === 'https' ? colon + 3 : -1;
}

/** `/`, `?` and `#` end the authority of an absolute URL. */
const AUTHORITY_END = new Set([47, 63, 35]);

function refuse(reason: string): TargetRefusal {
  return { status: 400, reason };
}
