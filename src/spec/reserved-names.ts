/**
 * App names berth keeps for itself. An app name becomes a path (`/session/<name>/`)
 * and, under a wildcard route, a host label (`<name>.apps.example.com`), and these
 * names are where berth's own admin API (`/v1/`), dashboard, health and metrics
 * endpoints live or are expected to live behind the same proxy. An app holding one
 * of them would shadow berth, or be shadowed by it, depending on routing order.
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  'berth',
  'api',
  'admin',
  'health',
  'healthz',
  'metrics',
  'v1',
  // Not a DNS label, so refused earlier anyway; listed so the set is complete.
  '_berth',
]);
