/**
 * Which route hosts and paths an app may claim. An IP literal is not a name an
 * app owns: routing by it would hand the gateway's own address (every request
 * that names no host) to one app, and addresses are what DNS rebinding points
 * at. berth's own endpoints live under /_berth/, which no app may shadow.
 */
import { isIP } from 'node:net';
import { gatewayPorts } from './host-ports.js';

export const BERTH_PATH = '/_berth/';

/** Whether `host` (a route host as written, maybe `*.`-prefixed) is an IP literal. */
export function isIpLiteral(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(bare) !== 0) return true;
  // URL parsers (WHATWG) read a host whose last label is a number as IPv4:
  // "1.2.3.4", "0x7f.1" and "2130706433" all name 127.0.0.1 or similar.
  const last = bare.replace(/\.$/, '').split('.').pop() ?? '';
  return /^(?:0x[0-9a-f]*|[0-9]+)$/i.test(last);
}

/** RFC 3986 §6.2.2.2: an escaped unreserved character means the character itself. */
function decodeUnreserved(path: string): string {
  return path.replace(/%([0-9A-Fa-f]{2})/g, (escape, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9._~-]/.test(char) ? char : escape;
  });
}

/** Whether a route path prefix lies under berth's own /_berth/ (however its unreserved characters are escaped). */
export function isUnderBerthPath(prefix: string): boolean {
  const path = decodeUnreserved(prefix);
  const withSlash = path.endsWith('/') ? path : `${path}/`;
  return withSlash.startsWith(BERTH_PATH);
}

/**
 * Host names no route may claim: the admin listener's (its bind host, the
 * config's adminHosts) and `localhost`. A route for one of them would hand an app
 * the name the dashboard is reached by, and with it the dashboard's cookies and
 * origin.
 */
export function reservedRouteHosts(adminBindHost: string, adminHosts: readonly string[]): Set<string> {
  const names = [adminBindHost, ...adminHosts, 'localhost'].map((h) => h.trim().toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, ''));
  return new Set(names.filter((h) => h !== ''));
}

/** The gateway's claims (route hosts, listener ports) from its config: see GatewayClaims in validate-set.ts. */
export function gatewayClaims(config: {
  admin: { host: string; port: number };
  adminHosts: readonly string[];
  listen: { port: number };
  tls?: { listen: { port: number } } | undefined;
}): { hosts: Set<string>; ports: Map<number, string> } {
  return {
    hosts: reservedRouteHosts(config.admin.host, config.adminHosts),
    ports: gatewayPorts({ listen: config.listen, admin: config.admin, 'tls.listen': config.tls?.listen }),
  };
}
