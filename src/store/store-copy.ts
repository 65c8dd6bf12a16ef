import { promises as fs } from 'node:fs';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { ConfigError, ConflictError, StoreError } from '../errors.js';
import type { RequestRow } from './history-rows.js';
import { inTransaction } from './pg-connect.js';
import { insertRawRequests } from './pg-history.js';
import { PostgresStore } from './postgres-store.js';
import { SqliteStore } from './sqlite-store.js';
import { describePostgresUrl, isPostgresUrl } from './store-location.js';

export interface CopySummary {
  apps: number;
  deleted: number;
  tokens: number;
  requests: number;
  usage: number;
  storeId: string;
}

/** History rows per INSERT (and per progress line). */
const REQUEST_CHUNK = 5000;

/** Meta keys a freshly migrated target has on its own; any other row means someone used it. */
const FRESH_META = new Set(['format', 'created_at', 'store_id']);

/**
 * Copies a SQLite store's whole state into an empty PostgreSQL store: apps with their
 * revisions, tombstones, scale overrides and unsettled updates, tokens (hashes only
 * exist), the meta rows (the store identity, so containers stay this store's, and the
 * secrets, so signed input URLs stay valid), history (ids kept), usage, certificates and
 * kept app failures. One transaction: a copy that fails leaves the target as empty as it was.
 */
export async function copySqliteToPostgres(
  from: string,
  to: string,
  progress: (line: string) => void = () => undefined,
  committing: () => void = () => undefined,
): Promise<CopySummary> {
  if (isPostgresUrl(from) || !isPostgresUrl(to)) {
    throw new ConfigError('berth store copy copies a SQLite store file (--from) into a PostgreSQL store (--to postgres://…)');
  }
  await fs.access(from).catch(() => {
    throw new StoreError(`store at ${from} does not exist; nothing to copy`);
  });
  refuseNonStore(from);
  // Opened as a gateway would (checked, brought to the current schema), then read raw.
  const source = new SqliteStore({ path: from, historyThread: false });
  await source.open();
  await source.close();
  const db = new Database(from, { readonly: true, fileMustExist: true });
  // One read transaction: every table is read from the same snapshot, even while a gateway still writes to the file.
  db.exec('BEGIN');
  // One transaction for the whole copy, its statements between reads of the file: no bound on either wait.
  const target = new PostgresStore({ url: to, queryTimeoutMs: 0, idleInTransactionMs: 0 });
  try {
    await target.open();
    return await inTransaction(target.connection, async (c) => {
      const summary = await copyAll(db, c, describePostgresUrl(to), progress);
      // Told before the COMMIT goes out: until then, a process that ends leaves the target as empty as it was.
      committing();
      return summary;
    });
  } finally {
    db.close();
    await target.close();
  }
}

async function copyAll(db: Database.Database, c: pg.PoolClient, where: string, progress: (line: string) => void): Promise<CopySummary> {
  // Taken before the check, so a gateway starting on the target meanwhile cannot slip in between.
  await c.query('LOCK TABLE meta, apps, tokens, requests, usage, certificates IN EXCLUSIVE MODE');
  await refuseNonEmpty(c, where);
  const meta = db.prepare<[], { key: string; value: string }>('SELECT key, value FROM meta').all();
  for (const m of meta) {
    await c.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [m.key, m.value]);
  }
  const apps = db.prepare<[], Record<string, unknown>>('SELECT name, spec, revision, spec_hash, source, created_at, updated_at, deleted_at, purge_volumes, replicas, previous FROM apps').all();
  for (const a of apps) {
    await c.query(
      `INSERT INTO apps (name, spec, revision, spec_hash, source, created_at, updated_at, deleted_at, purge_volumes, replicas, previous)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [a.name, a.spec, a.revision, a.spec_hash, a.source, a.created_at, a.updated_at, a.deleted_at, a.purge_volumes, a.replicas, a.previous],
    );
  }
  const tokens = db.prepare<[], Record<string, unknown>>('SELECT id, name, hash, created_at, last_used_at FROM tokens').all();
  for (const t of tokens) {
    await c.query('INSERT INTO tokens (id, name, hash, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5)', [t.id, t.name, t.hash, t.created_at, t.last_used_at]);
  }
  const usage = db.prepare<[], Record<string, unknown>>('SELECT app, day, running_s, paused_s, idle_s, requests FROM usage').all();
  for (const u of usage) {
    await c.query('INSERT INTO usage (app, day, running_s, paused_s, idle_s, requests) VALUES ($1, $2, $3, $4, $5, $6)', [u.app, u.day, u.running_s, u.paused_s, u.idle_s, u.requests]);
  }
  // ACME certificates too: the target's gateways serve them without ordering again.
  const certificates = db.prepare<[], Record<string, unknown>>('SELECT host, cert, key, not_after, last_error, failures, retry_at, updated_at FROM certificates').all();
  for (const r of certificates) {
    await c.query('INSERT INTO certificates (host, cert, key, not_after, last_error, failures, retry_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [r.host, r.cert, r.key, r.not_after, r.last_error, r.failures, r.retry_at, r.updated_at]);
  }
  // Kept failures too: an app that had failed still shows it at the target's gateways.
  const failures = db.prepare<[], Record<string, unknown>>('SELECT app, reason, last_error, public_error, last_output, failed_at FROM app_failures').all();
  for (const f of failures) {
    await c.query('INSERT INTO app_failures (app, reason, last_error, public_error, last_output, failed_at) VALUES ($1, $2, $3, $4, $5, $6)', [f.app, f.reason, f.last_error, f.public_error, f.last_output, f.failed_at]);
  }
  const requests = await copyRequests(db, c, progress);
  const storeId = meta.find((m) => m.key === 'store_id')?.value ?? '';
  const deleted = apps.filter((a) => a.deleted_at !== null).length;
  return { apps: apps.length - deleted, deleted, tokens: tokens.length, requests, usage: usage.length, storeId };
}

/** The history in id order, chunk by chunk (a long history is never held whole), then the id sequence moved past it. */
async function copyRequests(db: Database.Database, c: pg.PoolClient, progress: (line: string) => void): Promise<number> {
  const total = Number(db.prepare('SELECT count(*) FROM requests').pluck().get());
  const page = db.prepare<[number, number], RequestRow>(
    'SELECT id, time, app, method, path, status, duration_ms, bytes_in, bytes_out, client, waited, instance FROM requests WHERE id > ? ORDER BY id LIMIT ?',
  );
  let copied = 0;
  let after = 0;
  for (;;) {
    const rows = page.all(after, REQUEST_CHUNK);
    if (rows.length === 0) break;
    await insertRawRequests(c, rows);
    copied += rows.length;
    after = rows.at(-1)!.id;
    if (total > REQUEST_CHUNK) progress(`history: ${copied} of ${total} records copied`);
  }
  if (copied > 0) await c.query("SELECT setval(pg_get_serial_sequence('requests', 'id'), (SELECT max(id) FROM requests))");
  return copied;
}

/**
 * A source with no berth tables (an empty file: `touch`, a backup that failed, a mistyped
 * name that some tool created) was opened as a gateway opens a new store: made into a
 * fresh one, written to, and "copied" as 0 apps under a new store identity, exit 0. Read
 * only here; a file that is no SQLite at all is left to the open below, which names it.
 */
function refuseNonStore(from: string): void {
  let tables: number;
  try {
    const db = new Database(from, { readonly: true, fileMustExist: true });
    try {
      tables = Number(db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'").pluck().get());
    } finally {
      db.close();
    }
  } catch {
    return;
  }
  if (tables === 0) throw new StoreError(`store at ${from} is not a berth store (it has no berth tables); nothing to copy: give the gateway's store file, e.g. ./data/berth.db`);
}

async function refuseNonEmpty(c: pg.PoolClient, where: string): Promise<void> {
  const { rows } = await c.query<{ what: string; n: number }>(
    `SELECT 'apps' AS what, count(*) AS n FROM apps UNION ALL SELECT 'tokens', count(*) FROM tokens
     UNION ALL SELECT 'history records', count(*) FROM requests UNION ALL SELECT 'usage rows', count(*) FROM usage
     UNION ALL SELECT 'settings', count(*) FROM meta WHERE NOT (key = ANY($1::text[]))`,
    [[...FRESH_META]],
  );
  const held = rows.filter((r) => r.n > 0).map((r) => `${r.n} ${r.what}`);
  if (held.length > 0) {
    throw new ConflictError(`target store ${where} is not empty (it holds ${held.join(', ')}); copy only into a new, empty database`);
  }
}
