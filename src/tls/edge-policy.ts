import { stripPort, type RouteMatch } from '../proxy/route-table.js';
import type { HstsSpec, RouteSpec } from '../spec/types.js';

/** Where ACME's HTTP-01 challenges are fetched (RFC 8555 §8.3); never redirected, never routed to an app. */
export const ACME_CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

/** Whether a plain HTTP request routed by `route` goes to HTTPS: the route's own say, else the gateway's. */
export function redirectsToHttps(route: RouteSpec, gatewayWide: boolean): boolean {
  return route.redirectHttps ?? gatewayWide;
}

/**
 * Where a plain HTTP request routed by `match` is sent with 308, or undefined to serve it: the
 * route's own say, else the gateway's; never without an authority to name. The control's edge
 * and each proxy worker's decide with this.
 */
export function httpsRedirect(match: RouteMatch, target: string, gatewayWide: boolean, tlsPort: number): string | undefined {
  if (!redirectsToHttps(match.route, gatewayWide) || match.authority === '') return undefined;
  return httpsLocation(match.authority, target, tlsPort);
}

/**
 * The HTTPS URL of a plain request: its host (the port dropped) on the TLS
 * listener's port (left out when 443), and the path and query as routed.
 */
export function httpsLocation(authority: string, target: string, tlsPort: number): string {
  const host = stripPort(authority);
  return `https://${host}${tlsPort === 443 ? '' : `:${tlsPort}`}${target.startsWith('/') ? target : '/' + target}`;
}

/** The Strict-Transport-Security value of an app's `hsts`. */
export function hstsValue(hsts: HstsSpec): string {
  let value = `max-age=${hsts.maxAgeS}`;
  if (hsts.includeSubDomains) value += '; includeSubDomains';
  if (hsts.preload) value += '; preload';
  return value;
}

