import type { RouteDef } from '../route-def.js';
import { appActionRoutes } from './app-actions.js';
import { appRoutes } from './apps.js';
import { certificateRoutes } from './certificates.js';
import { cntSpawnerRoutes } from './cntspawner.js';
import { eventRoutes } from './events.js';
import { gatewayRoutes } from './gateways.js';
import { historyRoutes } from './history.js';
import { logRoutes } from './logs.js';
import { metricsRoutes } from './metrics.js';
import { systemRoutes } from './system.js';
import { tokenRoutes } from './tokens.js';
import { usageRoutes } from './usage.js';

/** Every operation of the admin API; the server dispatches on it and the OpenAPI document is built from it. */
export const apiRoutes: RouteDef[] = [];
apiRoutes.push(
  ...systemRoutes(() => apiRoutes),
  ...gatewayRoutes,
  ...appRoutes,
  ...appActionRoutes,
  ...historyRoutes,
  ...logRoutes,
  ...metricsRoutes,
  ...eventRoutes,
  ...tokenRoutes,
  ...usageRoutes,
  ...certificateRoutes,
  ...cntSpawnerRoutes,
);
