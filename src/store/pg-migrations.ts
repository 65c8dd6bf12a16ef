import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { StoreError } from '../errors.js';
import { inTransaction } from './pg-connect.js';

/**
 * The PostgreSQL store's schema, as an ordered list of migrations: the same tables,
 * columns and meaning as SQLite's (migrations.ts), in PostgreSQL's types (names COLLATE "C": bytewise, as SQLite sorts them, whatever the
 * database's locale). Times are
 * epoch milliseconds (BIGINT) as there, so rows copy across unchanged. The version
 * is kept in `berth_schema`, written in the migration's own transaction. Only ever
 * appended: a released migration is never edited.
 */
export interface PgMigration {
  version: number;
  description: string;
  sql: string;
}

export const pgMigrations: readonly PgMigration[] = [
  {
    version: 1,
    description: 'apps, tokens, request history, usage, store identity (SQLite schema 5)',
    sql: `
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
      CREATE TABLE apps (
        name          TEXT COLLATE "C" PRIMARY KEY,
        spec          TEXT NOT NULL CHECK (spec::jsonb IS NOT NULL),
        revision      INTEGER NOT NULL CHECK (revision >= 1),
        spec_hash     TEXT NOT NULL,
        source        TEXT NOT NULL CHECK (source IN ('config', 'api')),
        created_at    BIGINT NOT NULL,
        updated_at    BIGINT NOT NULL,
        deleted_at    BIGINT,
        purge_volumes SMALLINT NOT NULL DEFAULT 0 CHECK (purge_volumes IN (0, 1)),
        replicas      INTEGER CHECK (replicas IS NULL OR replicas >= 1),
        previous      TEXT CHECK (previous IS NULL OR previous::jsonb IS NOT NULL)
      );
      CREATE TABLE tokens (
        id           TEXT PRIMARY KEY,
        name         TEXT COLLATE "C" NOT NULL CONSTRAINT tokens_name_key UNIQUE,
        hash         TEXT NOT NULL UNIQUE,
        created_at   BIGINT NOT NULL,
        last_used_at BIGINT
      );
      CREATE TABLE requests (
        id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        time        BIGINT NOT NULL,
        app         TEXT COLLATE "C" NOT NULL,
        method      TEXT,
        path        TEXT,
        status      INTEGER,
        duration_ms DOUBLE PRECISION,
        bytes_in    BIGINT,
        bytes_out   BIGINT,
        client      TEXT,
        waited      SMALLINT,
        instance    TEXT
      );
      CREATE INDEX requests_app_time ON requests (app, time DESC, id DESC);
      CREATE INDEX requests_time ON requests (time);
      CREATE TABLE usage (
        app       TEXT COLLATE "C" NOT NULL,
        day       TEXT COLLATE "C" NOT NULL CHECK (day ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
        running_s DOUBLE PRECISION NOT NULL DEFAULT 0 CHECK (running_s >= 0),
        paused_s  DOUBLE PRECISION NOT NULL DEFAULT 0 CHECK (paused_s >= 0),
        idle_s    DOUBLE PRECISION NOT NULL DEFAULT 0 CHECK (idle_s >= 0),
        requests  BIGINT NOT NULL DEFAULT 0 CHECK (requests >= 0),
        PRIMARY KEY (app, day)
      );
      INSERT INTO meta (key, value) VALUES ('format', 'berth-store'), ('created_at', '${new Date().toISOString()}'), ('store_id', '${randomUUID()}');
    `,
  },
  {
    version: 2,
    description: 'several gateways: the gateways table (registry, heartbeat, activity), the serving gateway of each request, the leader\'s app states',
    sql: `
      ALTER TABLE requests ADD COLUMN gateway TEXT;
      CREATE TABLE gateways (
        id             TEXT COLLATE "C" PRIMARY KEY,
        proxy_address  TEXT NOT NULL,
        admin_address  TEXT NOT NULL,
        version        TEXT NOT NULL,
        started_at     BIGINT NOT NULL,
        heartbeat_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
        leader         BOOLEAN NOT NULL DEFAULT false,
        activity       JSONB NOT NULL DEFAULT '[]'
      );
      CREATE TABLE app_states (
        app        TEXT COLLATE "C" PRIMARY KEY,
        status     JSONB NOT NULL,
        updated_at BIGINT NOT NULL
      );
    `,
  },
  {
    version: 3,
    description: 'ACME certificates (SQLite schema 6)',
    sql: `
      CREATE TABLE certificates (
        host       TEXT COLLATE "C" PRIMARY KEY,
        cert       TEXT,
        key        TEXT,
        not_after  BIGINT,
        last_error TEXT,
        failures   INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
        retry_at   BIGINT,
        updated_at BIGINT NOT NULL
      );
    `,
  },
  {
    version: 4,
    description: 'last request times (SQLite schema 7)',
    sql: `
      CREATE TABLE last_requests (
        app TEXT COLLATE "C" PRIMARY KEY,
        at  BIGINT NOT NULL CHECK (at >= 0)
      );
    `,
  },
  {
    version: 5,
    description: 'kept app failures (SQLite schema 8)',
    sql: `
      CREATE TABLE app_failures (
        app          TEXT COLLATE "C" PRIMARY KEY,
        reason       TEXT,
        last_error   TEXT NOT NULL,
        public_error TEXT NOT NULL,
        last_output  TEXT,
        failed_at    BIGINT NOT NULL CHECK (failed_at >= 0)
      );
    `,
  },
  // Append here; never renumber, never edit a migration above.
];

export const PG_LATEST_SCHEMA_VERSION = pgMigrations.at(-1)?.version ?? 0;

/** Any fixed number: the advisory lock that serialises gateways migrating one database at once (exported for the tests). */
export const MIGRATION_LOCK = 0x62727468;

/** How long one migration's statements may run (a large history table rewritten). */
const MIGRATION_TIMEOUT_MS = 3_600_000;

/**
 * Applies what the database has not seen yet, each migration in its own transaction
 * under an advisory lock, so two gateways starting together on a new database do not
 * both run migration 1. Refuses a database a newer berth has migrated.
 */
export async function runPgMigrations(pool: pg.Pool, where: string): Promise<void> {
  await inTransaction(pool, async (client) => {
    // Under the lock too: two concurrent CREATE TABLE IF NOT EXISTS can still collide.
    // The lock is held through another gateway's migrations (the one upgraded first, on a
    // large history table): waiting for it is bound as they are, not by the everyday query
    // timeout, which would refuse this start as "store unreachable" after 30 s.
    await lockMigrations(client);
    await client.query(`CREATE TABLE IF NOT EXISTS berth_schema (
      version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
  });
  for (const migration of pgMigrations) {
    await inTransaction(pool, async (client) => {
      // Waits while another gateway runs this migration: as long as that may take.
      await lockMigrations(client);
      const current = await pgSchemaVersion(client);
      if (current > PG_LATEST_SCHEMA_VERSION) {
        throw new StoreError(`store ${where} was written by a newer berth (schema ${current} > ${PG_LATEST_SCHEMA_VERSION}); upgrade berth`);
      }
      if (current >= migration.version) return;
      // A migration may rewrite a large table: not bound by the store's query timeout, which is for the everyday statements.
      await client.query({ text: migration.sql, query_timeout: MIGRATION_TIMEOUT_MS } as pg.QueryConfig);
      await client.query('INSERT INTO berth_schema (version, description) VALUES ($1, $2)', [migration.version, migration.description]);
    });
  }
}

/** Takes the migration lock for the client's transaction, waiting as long as a migration may run. */
async function lockMigrations(client: pg.PoolClient): Promise<void> {
  await client.query({ text: 'SELECT pg_advisory_xact_lock($1)', values: [MIGRATION_LOCK], query_timeout: MIGRATION_TIMEOUT_MS } as pg.QueryConfig);
}

export async function pgSchemaVersion(client: pg.Pool | pg.PoolClient): Promise<number> {
  const { rows } = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM berth_schema');
  return rows[0]?.v ?? 0;
}
