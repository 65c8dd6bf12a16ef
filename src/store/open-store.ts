import type { Logger } from 'pino';
import { isPostgresUrl } from './store-location.js';
import type { Store } from './store.js';

/**
 * Opens the store a `store` setting names: a postgres:// URL is a PostgreSQL server,
 * anything else a SQLite file. Each driver is loaded only when chosen, so a SQLite
 * gateway never loads pg.
 */
export async function openStore(location: string, logger?: Logger): Promise<Store> {
  const store: Store = isPostgresUrl(location)
    ? new (await import('./postgres-store.js')).PostgresStore({ url: location })
    : new (await import('./sqlite-store.js')).SqliteStore({ path: location, logger });
  await store.open();
  return store;
}
