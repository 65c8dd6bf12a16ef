import { join } from 'node:path';
import type { AppSpec } from '../spec/index.js';
import { routeHost, routeUrl, urlHost } from '../api/app-view.js';
import { redirectsToHttps } from '../tls/edge-policy.js';

/** Where the gateway listens, as `berth serve` found it after starting. */
export interface BannerFacts {
  proxy: { address: string; port: number };
  https?: { address: string; port: number };
  admin?: { address: string; port: number };
  stateDir: string;
  apps: readonly Pick<AppSpec, 'name' | 'routes'>[];
  /** Every app served, the API's too (stored, not in the config): those beyond `apps` are counted, not listed. */
  servedApps?: number;
  /** BERTH_ADMIN_TOKEN is set: the first token is that, not the file. */
  tokenFromEnv: boolean;
  /** tls.redirect: plain HTTP gets 308 to HTTPS on every route whose own redirectHttps does not say otherwise. */
  redirect?: boolean;
}

const hostPort = (a: { address: string; port: number }) => `${urlHost(a.address)}:${a.port}`;

/** The lines `berth serve` prints once it listens: where to send requests, the API, the dashboard, each app's URL. */
export function serveBanner(facts: BannerFacts): string[] {
  const base = `http://${hostPort(facts.proxy)}`;
  const lines = [`berth is serving on ${base}`];
  if (facts.https) lines.push(`HTTPS (HTTP/2) on ${hostPort(facts.https)}`);
  if (facts.admin) {
    const tokenHint = facts.tokenFromEnv ? 'the token in BERTH_ADMIN_TOKEN' : `the token in ${join(facts.stateDir, 'admin-token')}`;
    const admin = `http://${hostPort(facts.admin)}`;
    lines.push(`admin API on ${admin}/v1/, dashboard on ${admin}/ (use ${tokenHint})`);
  }
  for (const app of facts.apps) {
    for (const route of app.routes) {
      const host = routeHost(route, app.name);
      const path = route.path ?? '/';
      // A route redirected to HTTPS is shown at its HTTPS URL (the API's): the plain one answers only 308. With a
      // host, the name resolves to the listener (--resolve), so the certificate is chosen by SNI for that name.
      if (facts.https && redirectsToHttps(route, facts.redirect ?? false)) {
        // The banner names the listener itself (no redirectPort): it is read on the gateway's own host.
        const url = routeUrl(route, app.name, facts);
        if (host) lines.push(`  ${app.name}: curl --resolve '${host}:${facts.https.port}:${urlHost(facts.https.address)}' ${url}`);
        else lines.push(`  ${app.name}: ${url}`);
      } else if (host) lines.push(`  ${app.name}: curl -H 'Host: ${host}' ${base}${path}`);
      else lines.push(`  ${app.name}: ${base}${path}`);
    }
  }
  // The API's apps are served too but may be thousands: a count and where to see them, so none looks lost after a restart.
  const more = (facts.servedApps ?? facts.apps.length) - facts.apps.length;
  if (more > 0) lines.push(`  and ${more} more app${more === 1 ? '' : 's'} added through the API: berth ls`);
  return lines;
}
