import { hostname } from 'node:os';

/**
 * This gateway's name among several on one store: the config's `gatewayId`, else
 * BERTH_GATEWAY_ID, else the host name with the proxy's configured port (stable
 * across restarts), or the process id when that port is chosen by the system (0). Pure.
 */
export function gatewayIdOf(configured: string | undefined, env: string | undefined, host: string, listenPort: number, pid: number): string {
  if (configured) return configured;
  if (env && gatewayIdProblem(env) === undefined) return env;
  const base = host.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 40) || 'gateway';
  return `${base}-${listenPort > 0 ? listenPort : `pid${pid}`}`;
}

/** The rule the config's `gatewayId` is checked against (config-schema.ts); an id is a PostgreSQL row key, a metrics label and a log field. */
export const GATEWAY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/**
 * Why `value` cannot name a gateway, or undefined. BERTH_GATEWAY_ID is checked with it
 * at start: a value it refused used to be dropped without a word for the host-name
 * default, so two gateways meant to be told apart could share an id. Pure.
 */
export function gatewayIdProblem(value: string): string | undefined {
  return GATEWAY_ID_PATTERN.test(value) ? undefined : `is not a gateway id: ${GATEWAY_ID_RULE}`;
}

export const GATEWAY_ID_RULE = 'letters, digits, dot, dash or underscore, at most 63, starting with a letter or digit';

export function defaultHost(): string {
  return hostname();
}
