import type { RouteSpec } from '../spec/types.js';
import { PathTrie } from './path-trie.js';

/** The routes of one app as the router needs them. */
export interface AppRoutes {
  app: string;
  routes: RouteSpec[];
}

export interface RouteMatch {
  app: string;
  route: RouteSpec;
  /** The path to send upstream: the request path, or what is left after stripping. */
  upstreamPath: string;
  /** The Host to send upstream: the normalised authority the request was routed by. */
  authority: string;
  /**
   * A stripping route's prefix without its trailing slash (`/session/a`), sent as
   * X-Forwarded-Prefix (as Traefik's StripPrefix does) so the app can build its links,
   * redirects and cookie paths under it; undefined when nothing is stripped.
   */
  strippedPrefix?: string | undefined;
}

interface PathEntry {
  app: string;
  route: RouteSpec;
  /** Normalized prefix ending in `/`; `/` matches everything. */
  prefix: string;
}

/**
 * An immutable routing table: host first (exact, then wildcard), then the longest
 * path prefix on whole segments. Built as a pure function of the app set and
 * swapped in whole on reload, so a request never sees a half-built table.
 * Lookups are a map per host and a trie per host's prefixes (path-trie.ts): their
 * cost does not grow with the number of apps.
 */
export class RouteTable {
  /** Exact host → its path prefixes. */
  private readonly byHost = new Map<string, PathTrie<PathEntry>>();
  /** Wildcard suffix (`.apps.example.com`) → the prefixes of the apps using it, by app name. */
  private readonly byWildcard = new Map<string, Map<string, PathTrie<PathEntry>>>();
  /** Routes without a host. */
  private readonly anyHost = new PathTrie<PathEntry>();
  /** Each app's entries, wherever they were filed (for `reaches`). */
  private readonly entriesByApp = new Map<string, PathEntry[]>();

  constructor(apps: readonly AppRoutes[]) {
    for (const { app, routes } of apps) {
      for (const route of routes) this.add(app, route);
    }
  }

  private add(app: string, route: RouteSpec): void {
    const entry: PathEntry = { app, route, prefix: normalizePrefix(route.path ?? '/') };
    let own = this.entriesByApp.get(app);
    if (!own) this.entriesByApp.set(app, (own = []));
    own.push(entry);
    if (route.host === undefined) {
      this.anyHost.add(entry);
    } else if (route.host.startsWith('*.')) {
      const suffix = withoutRootDot(route.host.slice(1).toLowerCase());
      const apps = this.byWildcard.get(suffix) ?? new Map<string, PathTrie<PathEntry>>();
      this.byWildcard.set(suffix, apps);
      addTo(apps, app, entry);
    } else {
      addTo(this.byHost, withoutRootDot(route.host.toLowerCase()), entry);
    }
  }

  /**
   * Whether some path on `host` leads to `app`: berth's own endpoints about an app
   * (the waiting page's status poll) answer only on a host where the app is served,
   * so they never tell a client more than a request to that host could.
   *
   * It is `match` itself, asked once per route of the app: a route's prefix without its
   * slash (`/a/b` for `/a/b/`, the empty path for `/`) is matched, in every trie, by
   * exactly the prefixes that match every path below it, so if any path on the host
   * reaches the app through that route, this one does. A route without a host used to
   * count on every host, even one whose own `/` route takes every path there.
   */
  reaches(host: string | undefined, app: string): boolean {
    const own = this.entriesByApp.get(app);
    if (!own) return false;
    for (const entry of own) {
      if (this.match(host, entry.prefix.slice(0, -1))?.app === app) return true;
    }
    return false;
  }

  /**
   * `host` may carry a port and any case; `path` is the path and query, already
   * normalised by the proxy (request-target.ts). `authority` is the Host the app
   * is to be sent, carried in the match.
   */
  match(host: string | undefined, path: string, authority = host ?? ''): RouteMatch | undefined {
    const hostname = host ? withoutRootDot(stripPort(host).toLowerCase()) : '';
    if (hostname) {
      const exact = this.byHost.get(hostname);
      const hit = exact && matchPath(exact, path, authority);
      if (hit) return hit;
      const wild = this.matchWildcard(hostname, path, authority);
      if (wild) return wild;
    }
    return matchPath(this.anyHost, path, authority);
  }

  private matchWildcard(hostname: string, path: string, authority: string): RouteMatch | undefined {
    const dot = hostname.indexOf('.');
    if (dot <= 0) return undefined;
    const apps = this.byWildcard.get(hostname.slice(dot));
    const entries = apps?.get(hostname.slice(0, dot));
    return entries && matchPath(entries, path, authority);
  }
}

function addTo<K>(map: Map<K, PathTrie<PathEntry>>, key: K, entry: PathEntry): void {
  let trie = map.get(key);
  if (!trie) map.set(key, (trie = new PathTrie()));
  trie.add(entry);
}

function matchPath(entries: PathTrie<PathEntry>, path: string, authority: string): RouteMatch | undefined {
  const entry = entries.match(path);
  if (!entry) return undefined;
  const strip = entry.route.stripPrefix && entry.prefix !== '/';
  const upstreamPath = strip ? (remainderAfterPrefix(path, entry.prefix) ?? path) : path;
  // Always the same fields, so the hot path's match objects keep one shape.
  return { app: entry.app, route: entry.route, upstreamPath, authority, strippedPrefix: strip ? entry.prefix.slice(0, -1) : undefined };
}

/**
 * Where a request for a stripping route's bare prefix (`/session/a` or `/session/a?q`,
 * no trailing slash) is sent back to, or undefined. The app gets `/` for it, as for
 * `/session/a/`, but a browser resolves that page's relative links (`style.css`,
 * `login`) against `/session/`, outside the app. So, as nginx does for a prefix
 * `location` with proxy_pass, a GET or HEAD of it is redirected to the prefix with its
 * slash, the query kept; other methods are forwarded as before (a client posting to it
 * may not follow a redirect). `url` is the routed path and query.
 *
 * The Location is relative to the request (`./a/?q`, RFC 9110 §10.2.2), not the path
 * berth routed (`/session/a/`): behind a proxy that mounts berth under a prefix
 * (`/berth/session/a` seen by the browser), that path sent the browser out of the mount,
 * to whatever the proxy in front serves at `/session/a/`. The last segment resolved
 * against the browser's own URL stays wherever the browser is, as the waiting page's
 * status poll does. `./` keeps a segment with a `:` (`a:b/`) from reading as a scheme.
 */
export function trailingSlashRedirect(match: RouteMatch, method: string, url: string): string | undefined {
  const prefix = match.strippedPrefix;
  if (prefix === undefined || url.length < prefix.length) return undefined;
  if (url.length > prefix.length && url.charCodeAt(prefix.length) !== 63 /* ? */) return undefined;
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  return `./${prefix.slice(prefix.lastIndexOf('/') + 1)}/${url.slice(prefix.length)}`;
}

/**
 * Whole-segment prefix match: `/session/a/` matches `/session/a`, `/session/a/`,
 * `/session/a/x` and `/session/a?q`, never `/session/ab`. Returns the upstream
 * path after stripping (always starting with `/`), or undefined.
 */
export function remainderAfterPrefix(path: string, prefix: string): string | undefined {
  if (prefix === '/') return path.startsWith('/') ? path : '/' + path;
  if (path.startsWith(prefix)) return path.slice(prefix.length - 1);
  // The prefix without its trailing slash, followed by the end or a query string.
  const bare = prefix.length - 1;
  if (path.length >= bare && path.startsWith(prefix.slice(0, bare))) {
    if (path.length === bare) return '/';
    if (path.charCodeAt(bare) === 63 /* ? */) return '/' + path.slice(bare);
  }
  return undefined;
}

export function normalizePrefix(path: string): string {
  return path.endsWith('/') ? path : path + '/';
}

/** `example.com.` (the DNS root spelled out) is `example.com`. */
function withoutRootDot(host: string): string {
  return host.length > 1 && host.endsWith('.') ? host.slice(0, -1) : host;
}

/** `host[:port]` or `[v6][:port]` without the port. */
export function stripPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end > 0 ? host.slice(0, end + 1) : host;
  }
  const colon = host.indexOf(':');
  return colon >= 0 ? host.slice(0, colon) : host;
}
