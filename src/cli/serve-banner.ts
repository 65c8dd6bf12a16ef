import { join } from 'node:path';
import type { AppSpec } from '../spec/index.js';

/** Where the gateway listens, as `berth serve` found it after starting. */
export interface BannerFacts {
  proxy: { address: string; port: number };
  https?: { address: string; port: number };
  admin?: { address: string; port: number };
  stateDir: string;
  apps: readonly Pick<AppSpec, 'name' | 'routes'>[];
  /** BERTH_ADMIN_TOKEN is set: the first token is that, not the file. */
  tokenFromEnv: boolean;
}

const hostPort = (a: { address: string; port: number }) => `${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;

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
      if (route.host && !route.host.startsWith('*.')) lines.push(`  ${app.name}: curl -H 'Host: ${route.host}' ${base}${route.path ?? '/'}`);
      else if (route.host) lines.push(`  ${app.name}: curl -H 'Host: ${app.name}${route.host.slice(1)}' ${base}${route.path ?? '/'}`);
      else lines.push(`  ${app.name}: ${base}${route.path ?? '/'}`);
    }
  }
  return lines;
}
