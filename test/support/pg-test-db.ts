import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The PostgreSQL server the tests may use: BERTH_TEST_PG_URL, which scripts/test.sh
 * sets (starting a throwaway server, see scripts/ensure-postgres.sh). Under CI it must
 * be there: a PostgreSQL test that silently skipped would pass without testing anything.
 */
export function testPgUrl(): string | undefined {
  const url = process.env.BERTH_TEST_PG_URL;
  if (!url && process.env.CI === 'true') {
    throw new Error('CI=true but BERTH_TEST_PG_URL is not set: run the tests through scripts/test.sh, which starts a PostgreSQL');
  }
  return url || undefined;
}

/** Why a PostgreSQL test is skipped outside CI, or false when it runs. */
export function pgSkip(): string | false {
  return testPgUrl() ? false : 'no PostgreSQL: set BERTH_TEST_PG_URL (scripts/test.sh does)';
}

export interface TestDatabase {
  /** The URL of a new, empty database of its own. */
  url: string;
  name: string;
  /** Drops it, closing whatever connections are still open to it. */
  drop(): Promise<void>;
}

/** A fresh database on the test server, for one test; drop() it in a finally. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const server = testPgUrl();
  if (!server) throw new Error('no BERTH_TEST_PG_URL');
  const name = `berth_test_${randomBytes(6).toString('hex')}`;
  await admin(server, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => admin(server, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** Whether a database of this name exists (tests check their cleanup). */
export async function databaseExists(name: string): Promise<boolean> {
  const server = testPgUrl();
  if (!server) return false;
  const r = await admin(server, (c) => c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]));
  return (r.rowCount ?? 0) > 0;
}

async function admin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
