import type { GatewayInfo } from '../../cluster/gateways/gateway-registry.js';
import type { RouteDef } from '../route-def.js';

/** One gateway as the API shows it. */
export interface GatewayView {
  id: string;
  /** The one answering this call. */
  self: boolean;
  proxyAddress: string;
  adminAddress: string;
  version: string;
  startedAt: string;
  lastHeartbeat: string;
  leader: boolean;
  /** Its heartbeat is recent (within 5 s). */
  alive: boolean;
  /** Its own traffic per app: requests and WebSockets in flight, and when one last began or ended. */
  activity: Array<{ app: string; inFlight: number; lastActivity: string }>;
}

export function gatewayView(g: GatewayInfo, selfId: string | undefined): GatewayView {
  return {
    id: g.id,
    self: g.id === selfId,
    proxyAddress: g.proxyAddress,
    adminAddress: g.adminAddress,
    version: g.version,
    startedAt: g.startedAt.toISOString(),
    lastHeartbeat: g.lastHeartbeat.toISOString(),
    leader: g.leader,
    alive: g.alive,
    activity: g.activity.map(([app, inFlight, lastMs]) => ({ app, inFlight, lastActivity: new Date(lastMs).toISOString() })),
  };
}

export const gatewayRoutes: RouteDef[] = [
  {
    method: 'GET',
    path: '/v1/gateways',
    operationId: 'gateways',
    summary: 'Every gateway sharing this store: id, addresses, version, leader, last heartbeat, its own traffic',
    tag: 'gateway',
    responses: { 200: 'The gateways (just this one on a SQLite store), alive ones first' },
    async handle(ctx) {
      const self = ctx.gateway.gatewayId ?? 'local';
      return { body: { self, leader: ctx.gateway.gateways().find((g) => g.leader)?.id ?? null, gateways: ctx.gateway.gateways().map((g) => gatewayView(g, self)) } };
    },
  },
];
