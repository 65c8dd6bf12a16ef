import type { HistoryQuery } from '../store/store.js';

/**
 * The history query of one app, bounded below by when the app was created. The store keeps
 * request records by app name, and they outlive a delete (until history retention drops them):
 * a spawner that deletes `alice` and creates `alice` again gets a new app, whose history must
 * not open with the old app's requests as if the new one had served them (they even name the
 * same container, berth-alice-0). A `since` later than the creation stands. Pure.
 */
export function ownHistoryQuery(query: HistoryQuery, createdAt: Date): HistoryQuery {
  if (query.since !== undefined && query.since.getTime() >= createdAt.getTime()) return query;
  return { ...query, since: createdAt };
}
