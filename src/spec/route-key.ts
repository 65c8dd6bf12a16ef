/**
 * The normal form of a route, shared by parsing (which stores it), the per-app
 * duplicate check and the cross-app collision check, so "/a" and "/a/", or
 * "Hello.Example.com" and "hello.example.com", are the same route everywhere.
 */

/** Path prefixes match whole segments, so they always end in "/". */
export function normalizePathPrefix(path: string): string {
  return path.endsWith('/') ? path : `${path}/`;
}

/** Host names are case-insensitive (RFC 4343). */
export function normalizeHost(host: string): string {
  return host.toLowerCase();
}

/**
 * A readable identity of a route: `host path`. A route without a host answers any
 * host (`*`); one without a path answers every path, exactly as the prefix "/" does.
 */
export function routeKey(route: { host?: string | undefined; path?: string | undefined }): string {
  const host = route.host === undefined ? '*' : normalizeHost(route.host);
  return `${host} ${normalizePathPrefix(route.path ?? '/')}`;
}
