import { hostname } from 'node:os';

/**
 * This gateway's name among several on one store: the config's `gatewayId`, else
 * BERTH_GATEWAY_ID, else the host name with the proxy's configured port (stable
 * across restarts), or the process id when that port is chosen by the system (0). Pure.
 */
export function gatewayIdOf(configured: string | undefined, env: string | undefined, host: string, listenPort: number, pid: number): string {
  if (configured) return configured;
  if (env && /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(env)) return env;
  const base = host.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 40) || 'gateway';
  return `${base}-${listenPort > 0 ? listenPort : `pid${pid}`}`;
}

export function defaultHost(): string {
  return hostname();
}
