import type { AppStatus } from '../../activator/app-status.js';

const DATE_FIELDS = ['since', 'lastActivity', 'idleAt', 'retryAt'] as const;

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
