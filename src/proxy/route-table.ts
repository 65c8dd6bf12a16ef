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
  /** The apps each exact host leads to, and those a route without a host does (for `reaches`). */
  private readonly appsByHost = new Map<string, Set<string>>();
  private readonly anyHostApps = new Set<string>();

  constructor(apps: readonly AppRoutes[]) {
    for (const { app, routes } of apps) {
      for (const route of routes) this.add(app, route);
    }
  }

  private add(app: string, route: RouteSpec): void {
    const entry: PathEntry = { app, route, prefix: normalizePrefix(route.path ?? '/') };
    if (route.host === undefined) {
      this.anyHost.add(entry);
      this.anyHostApps.add(app);
    } else if (route.host.startsWith('*.')) {
      const suffix = withoutRootDot(route.host.slice(1).toLowerCase());
      const apps = this.byWildcard.get(suffix) ?? new Map<string, PathTrie<PathEntry>>();
      this.byWildcard.set(suffix, apps);
      addTo(apps, app, entry);
    } else {
      const host = withoutRootDot(route.host.toLowerCase());
      addTo(this.byHost, host, entry);
      let apps = this.appsByHost.get(host);
      if (!apps) this.appsByHost.set(host, (apps = new Set()));
      apps.add(app);
    }
  }

  /**
   * Whether some route on `host` may lead to `app`, whatever the path: berth's
   * own endpoints about an app (the waiting page's status poll) answer only on
   * a host where the app is served, so they never tell a client more than a
   * request to that host could. A route without a host counts on every host
   * (the app is reached through any of them, if only by its path).
   */
  reaches(host: string | undefined, app: string): boolean {
    if (this.anyHostApps.has(app)) return true;
    const hostname = host ? withoutRootDot(stripPort(host).toLowerCase()) : '';
    if (hostname === '') return false;
    if (this.appsByHost.get(hostname)?.has(app) === true) return true;
    // A wildcard host leads to the app its first label names (see matchWildcard).
    const dot = hostname.indexOf('.');
    return dot > 0 && hostname.slice(0, dot) === app && this.byWildcard.get(hostname.slice(dot))?.has(app) === true;
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
 */
export function trailingSlashRedirect(match: RouteMatch, method: string, url: string): string | undefined {
  const prefix = match.strippedPrefix;
  if (prefix === undefined || url.length < prefix.length) return undefined;
  if (url.length > prefix.length && url.charCodeAt(prefix.length) !== 63 /* ? */) return undefined;
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  return `${prefix}/${url.slice(prefix.length)}`;
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
