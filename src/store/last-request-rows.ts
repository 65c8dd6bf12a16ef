import type Database from 'better-sqlite3';
import { StoreError } from '../errors.js';
import type { LastRequest } from './store.js';

/** The last-request statements, prepared once per open. */
export function prepareLastRequests(db: Database.Database) {
  const all = db.prepare<[], { app: string; at: number }>('SELECT app, at FROM last_requests');
  const put = db.prepare<[string, number]>('INSERT INTO last_requests (app, at) VALUES (?, ?) ON CONFLICT (app) DO UPDATE SET at = excluded.at');
  const drop = db.prepare<[string]>('DELETE FROM last_requests WHERE app = ?');
  const save = db.transaction((changed: readonly LastRequest[], gone: readonly string[]) => {
    for (const [app, at] of changed) put.run(app, at);
    for (const app of gone) drop.run(app);
  });
  return {
    all: (): Map<string, number> => new Map(all.all().map((r) => [r.app, r.at])),
    save(changed: readonly LastRequest[], gone: readonly string[]): void {
      changed.forEach(checkLastRequest);
      if (changed.length + gone.length > 0) save.immediate(changed, gone);
    },
  };
}

/** Checks one entry before anything is written (shared with the PostgreSQL store). */
export function checkLastRequest([app, at]: LastRequest): void {
  if (typeof app !== 'string' || app === '') throw new StoreError('last request: no app');
  if (!Number.isSafeInteger(at) || at < 0) throw new StoreError(`last request of ${app}: a whole number of epoch milliseconds, not ${at}`);
}
