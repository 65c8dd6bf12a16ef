import type { AppState, AppStatus } from '../../activator/app-status.js';

const DATE_FIELDS = ['since', 'lastActivity', 'idleAt', 'retryAt'] as const;

const STATES: ReadonlySet<AppState> = new Set<AppState>(['stopped', 'starting', 'running', 'stopping', 'paused', 'failed', 'crashloop']);
const COUNT_FIELDS = ['inFlight', 'waiting', 'replicas', 'readyInstances'] as const;

/**
 * A row of the leader's app states (app_states.status) when it is a status of
 * `app` the API can show, else undefined: the gateway then shows its own view.
 * A row written by another berth version, or edited by hand, must not make
 * every gateway's app list fail. Pure.
 */
export function leaderStatusOf(app: string, value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const s = value as Record<string, unknown>;
  if (s.name !== app || !STATES.has(s.state as AppState)) return undefined;
  if (typeof s.since !== 'string' || Number.isNaN(Date.parse(s.since))) return undefined;
  for (const field of DATE_FIELDS) if (s[field] !== undefined && (typeof s[field] !== 'string' || Number.isNaN(Date.parse(s[field] as string)))) return undefined;
  for (const field of COUNT_FIELDS) if (typeof s[field] !== 'number' || !Number.isFinite(s[field])) return undefined;
  return s;
}

/** An app status as the leader wrote it (JSON: times as ISO text) back with its Dates. Pure. */
export function statusFromJson(json: Record<string, unknown>): AppStatus {
  const status = { ...json } as unknown as AppStatus & Record<string, unknown>;
  for (const field of DATE_FIELDS) {
    const value = json[field];
    if (typeof value === 'string') (status as Record<string, unknown>)[field] = new Date(value);
  }
  return status;
}

/**
 * What the API shows of an app at a gateway that does not lead: the leader's
 * view (what it runs, stops and counts), with this gateway's own requests in
 * flight added; its own view while it leads, or when no leader wrote one yet. Pure.
 */
export function viewedStatus(own: AppStatus | undefined, leader: Record<string, unknown> | undefined, leading: boolean): AppStatus | undefined {
  if (leading || !leader) return own;
  return statusFromJson(leader);
}
