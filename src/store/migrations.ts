import { randomUUID } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';

/**
 * The store's schema, as an ordered list of migrations. The schema version is kept in
 * `PRAGMA user_version` (a field of the database header, so it commits atomically with
 * the migration that sets it). Migrations are only ever appended: a released one is
 * never edited, because stores in the field have already run it.
 */
export interface Migration {
  /** 1, 2, 3…; equals the user_version the store has once this migration is applied. */
  version: number;
  description: string;
  up(db: BetterSqlite3.Database): void;
}

/**
 * Marks the file as a berth store (`PRAGMA application_id`, "brth"), so that a path
 * pointing at some other program's SQLite database is refused instead of written to.
 */
export const BERTH_APPLICATION_ID = 0x62727468;

export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'apps and store metadata',
    up(db) {
      db.exec(`
        CREATE TABLE meta (
          key   TEXT PRIMARY KEY,
          value TEXT NOT NULL
        ) STRICT;
        CREATE TABLE apps (
          name       TEXT PRIMARY KEY,
          spec       TEXT NOT NULL CHECK (json_valid(spec)),
          revision   INTEGER NOT NULL CHECK (revision >= 1),
          spec_hash  TEXT NOT NULL,
          source     TEXT NOT NULL CHECK (source IN ('config', 'api')),
          created_at INTEGER NOT NULL, -- epoch milliseconds
          updated_at INTEGER NOT NULL  -- epoch milliseconds
        ) STRICT;
      `);
      const meta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
      meta.run('format', 'berth-store');
      meta.run('created_at', new Date().toISOString());
      db.pragma(`application_id = ${BERTH_APPLICATION_ID}`);
    },
  },
  {
    version: 2,
    description: 'API tokens',
    up(db) {
      // Only a SHA-256 of each secret is kept. Revoking a token deletes its row, so a
      // revoked token can never be found again and its name can be given to a new one.
      db.exec(`
        CREATE TABLE tokens (
          id           TEXT PRIMARY KEY,
          name         TEXT NOT NULL UNIQUE,
          hash         TEXT NOT NULL UNIQUE,
          created_at   INTEGER NOT NULL, -- epoch milliseconds
          last_used_at INTEGER           -- epoch milliseconds
        ) STRICT;
      `);
    },
  },
  {
    version: 3,
    description: 'request history',
    up(db) {
      // id is the rowid: it grows with each insert, which is what keyset paging breaks
      // ties on and what count-based pruning cuts at.
      db.exec(`
        CREATE TABLE requests (
          id          INTEGER PRIMARY KEY,
          time        INTEGER NOT NULL, -- epoch milliseconds
          app         TEXT NOT NULL,
          method      TEXT,
          path        TEXT,
          status      INTEGER,          -- 0: the client went away before an answer
          duration_ms REAL,
          bytes_in    INTEGER,
          bytes_out   INTEGER,
          client      TEXT,
          waited      INTEGER,          -- 1: the request waited for a cold start
          instance    TEXT
        ) STRICT;
        CREATE INDEX requests_app_time ON requests (app, time DESC, id DESC);
        CREATE INDEX requests_time ON requests (time);
      `);
    },
  },
  {
    version: 4,
    description: 'usage accounting',
    up(db) {
      // Container-seconds per app and UTC day (YYYY-MM-DD), only ever added to. Rows
      // outlive their app: what a deleted app used stays in the accounts.
      db.exec(`
        CREATE TABLE usage (
          app       TEXT NOT NULL,
          day       TEXT NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
          running_s REAL NOT NULL DEFAULT 0 CHECK (running_s >= 0),
          paused_s  REAL NOT NULL DEFAULT 0 CHECK (paused_s >= 0),
          idle_s    REAL NOT NULL DEFAULT 0 CHECK (idle_s >= 0),
          requests  INTEGER NOT NULL DEFAULT 0 CHECK (requests >= 0),
          PRIMARY KEY (app, day)
        ) STRICT;
      `);
    },
  },
  {
    version: 5,
    description: 'store identity, delete tombstones, scale overrides',
    up(db) {
      // store_id: labels every container this store's gateways create (berth.store), so a
      // gateway tells its own orphans from another gateway's containers. deleted_at marks
      // a delete whose containers may still exist: the row goes only once they are gone.
      // replicas: the count set by `berth scale`, kept until the spec itself changes.
      // previous: the row an API update replaced, until the update is known to deploy (or
      // not); a gateway killed in between goes back to it at its next start.
      db.exec(`
        ALTER TABLE apps ADD COLUMN deleted_at INTEGER;  -- epoch milliseconds; NULL: desired
        ALTER TABLE apps ADD COLUMN purge_volumes INTEGER NOT NULL DEFAULT 0 CHECK (purge_volumes IN (0, 1));
        ALTER TABLE apps ADD COLUMN replicas INTEGER CHECK (replicas IS NULL OR replicas >= 1);
        ALTER TABLE apps ADD COLUMN previous TEXT CHECK (previous IS NULL OR json_valid(previous));  -- the row an unsettled API update replaced
      `);
      db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING').run('store_id', randomUUID());
    },
  },
  {
    version: 6,
    description: 'ACME certificates',
    up(db) {
      // One row per exact route host: its certificate once obtained, and the state of its
      // orders (the CA's last reason, failures in a row, no retry before retry_at).
      db.exec(`
        CREATE TABLE certificates (
          host       TEXT PRIMARY KEY,
          cert       TEXT,
          key        TEXT,
          not_after  INTEGER,           -- epoch milliseconds
          last_error TEXT,
          failures   INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
          retry_at   INTEGER,           -- epoch milliseconds
          updated_at INTEGER NOT NULL   -- epoch milliseconds
        ) STRICT;
      `);
    },
  },
  {
    version: 7,
    description: 'last request times',
    up(db) {
      // When each declared app last had a request (epoch milliseconds), saved now and then
      // and at shutdown: after a restart the idle timeout counts on from it, not from zero.
      db.exec(`
        CREATE TABLE last_requests (
          app TEXT PRIMARY KEY,
          at  INTEGER NOT NULL CHECK (at >= 0)
        ) STRICT;
      `);
    },
  },
  {
    version: 8,
    description: 'kept app failures',
    up(db) {
      // Each app's last failure, so that a gateway restart still shows it failed and why
      // (its state lives in memory). public_error is what the app's clients may read;
      // last_error the full text for the admin API. A row goes when the app starts again.
      db.exec(`
        CREATE TABLE app_failures (
          app          TEXT PRIMARY KEY,
          reason       TEXT,
          last_error   TEXT NOT NULL,
          public_error TEXT NOT NULL,
          last_output  TEXT,
          failed_at    INTEGER NOT NULL CHECK (failed_at >= 0) -- epoch milliseconds
        ) STRICT;
      `);
    },
  },
  {
    version: 9,
    description: 'request history without the time index',
    up(db) {
      // requests_time served only the prune by age, once a minute, yet every insert paid for
      // it: a second b-tree entry per request, ~1,600 of the ~27,000 instructions a request
      // cost the history (bench/history-instructions.sh). The prune now finds the same rows
      // through requests_app_time, one app at a time (DELETE_OLDER_SQL in history-rows.ts).
      db.exec('DROP INDEX IF EXISTS requests_time;');
    },
  },
  // Append here; never renumber, never edit a migration above.
];

export const LATEST_SCHEMA_VERSION = migrations.at(-1)?.version ?? 0;

/**
 * Applies every migration the store has not seen yet, each in its own IMMEDIATE
 * transaction. IMMEDIATE takes the write lock before reading user_version, so two
 * gateways opening the same new file at once cannot both run migration 1.
 */
export function runMigrations(db: BetterSqlite3.Database): void {
  for (const migration of migrations) {
    const apply = db.transaction(() => {
      if (userVersion(db) >= migration.version) return;
      migration.up(db);
      db.pragma(`user_version = ${migration.version}`);
    });
    apply.immediate();
  }
}

export function userVersion(db: BetterSqlite3.Database): number {
  return Number(db.pragma('user_version', { simple: true }));
}
