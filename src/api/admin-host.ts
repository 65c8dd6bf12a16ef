/**
 * Which Host headers the admin listener answers. A browser holding a dashboard
 * token will send it to any name that resolves to the admin address, so a page on
 * an attacker's domain could rebind its name to 127.0.0.1 and read the API (DNS
 * rebinding). Answering only the names the listener really serves stops that.
 */
import { isIP } from 'node:net';

/** Loopback names a local client may use whatever the bind address. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

/** Bind addresses that name no host: the operator must list the names (adminHosts). */
export function isWildcardAddress(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '' || host === '[::]';
}

/**
 * The host names the admin listener answers to, lowercase, without brackets or
 * port: loopback names, its bind address (unless a wildcard), and `configured`
 * (config `adminHosts`).
 */
export function adminHostNames(bindHost: string, configured: readonly string[] = []): Set<string> {
  const names = new Set(LOOPBACK_NAMES);
  const bind = stripBrackets(bindHost.toLowerCase());
  if (!isWildcardAddress(bind)) names.add(bind);
  for (const name of configured) names.add(stripBrackets(name.trim().toLowerCase()).replace(/\.$/, ''));
  return names;
}

/**
 * The name in a Host header value (`example.com:8081`, `[::1]:8081`, `localhost`),
 * lowercase, without port, brackets or a trailing dot; undefined when malformed.
 */
export function hostNameOf(header: string): string | undefined {
  const value = header.trim().toLowerCase();
  if (value === '' || /[\s/\\@?#%]/.test(value)) return undefined;
  let name: string;
  let port: string | undefined;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close < 0) return undefined;
    name = value.slice(1, close);
    const rest = value.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return undefined;
    port = rest === '' ? undefined : rest.slice(1);
    if (isIP(name) !== 6) return undefined;
  } else {
    const colon = value.lastIndexOf(':');
    if (colon !== value.indexOf(':')) return undefined; // an IPv6 address must be bracketed
    name = colon >= 0 ? value.slice(0, colon) : value;
    port = colon >= 0 ? value.slice(colon + 1) : undefined;
    name = name.replace(/\.$/, '');
    // RFC 3986 reg-name: unreserved and sub-delims only (percent-encoding was refused above).
    if (!/^[a-z0-9._~!$&'()*+,;=-]+$/.test(name)) return undefined;
  }
  if (port !== undefined && !/^[0-9]{1,5}$/.test(port)) return undefined;
  return name;
}

/** Whether a request with this Host header (or none) is for the admin listener. HTTP/1.1 requires Host. */
export function adminHostAllowed(header: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (header === undefined) return false;
  const name = hostNameOf(header);
  return name !== undefined && allowed.has(name);
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
