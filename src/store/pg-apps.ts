import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { StoreError } from '../errors.js';
import { specHash } from '../spec/hash.js';
import type { AppSpec } from '../spec/types.js';
import { APP_COLUMNS, rowToApp, type AppRow } from './app-rows.js';
import type { AppSource, PutResult } from './store.js';

// The PostgreSQL store's multi-statement app writes, each run inside its caller's transaction.

/** Insert-if-absent, then read: whichever gateway inserted first wins, and all read the same value. */
export async function metaSecret(pool: pg.Pool, key: string): Promise<string> {
  await pool.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, randomBytes(32).toString('hex')]);
  const { rows } = await pool.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [key]);
  return rows[0]!.value;
}

export function restoreRow(c: pg.Pool | pg.PoolClient, row: AppRow) {
  return c.query(
    `UPDATE apps SET spec = $2, revision = $3, spec_hash = $4, source = $5, updated_at = $6, replicas = $7, previous = NULL,
     deleted_at = NULL, purge_volumes = 0 WHERE name = $1`,
    [row.name, row.spec, row.revision, row.spec_hash, row.source, row.updated_at, row.replicas],
  );
}

/** The live stored specs of the batch's apps, by name (those it updates). */
export async function storedSpecs(c: pg.PoolClient, specs: readonly AppSpec[]): Promise<Map<string, AppSpec>> {
  const { rows } = await c.query<{ name: string; spec: string }>('SELECT name, spec FROM apps WHERE name = ANY($1::text[]) AND deleted_at IS NULL', [specs.map((s) => s.name)]);
  return new Map(rows.map((r) => [r.name, JSON.parse(r.spec) as AppSpec]));
}

/** Inserts, updates or keeps one app, as SQLite's putOne does; inside the batch's transaction. */
export async function putOne(c: pg.PoolClient, spec: AppSpec, source: AppSource, now: number): Promise<PutResult> {
  const hash = specHash(spec);
  const found = await c.query<AppRow & { deleted_at: number | null }>(`SELECT ${APP_COLUMNS}, deleted_at FROM apps WHERE name = $1`, [spec.name]);
  let existing: (AppRow & { deleted_at: number | null }) | undefined = found.rows[0];
  if (existing && existing.deleted_at !== null) {
    await c.query('DELETE FROM apps WHERE name = $1', [spec.name]);
    existing = undefined;
  }
  if (existing && existing.spec_hash === hash) {
    if (existing.source !== source) await c.query('UPDATE apps SET source = $1 WHERE name = $2', [source, spec.name]);
    return { app: rowToApp({ ...withoutDeleted(existing), source }), changed: false };
  }
  // As SQLite's: JSON null for an app the unsettled API apply created (see revertUnsettled).
  const previous = source === 'api' ? JSON.stringify(existing ? withoutDeleted(existing) : null) : null;
  const json = JSON.stringify(spec);
  const { rows } = existing
    ? await c.query<AppRow>(
        `UPDATE apps SET spec = $2, revision = revision + 1, spec_hash = $3, source = $4, updated_at = $5, replicas = NULL, previous = $6
         WHERE name = $1 RETURNING ${APP_COLUMNS}`,
        [spec.name, json, hash, source, now, previous],
      )
    : await c.query<AppRow>(
        `INSERT INTO apps (name, spec, revision, spec_hash, source, created_at, updated_at, previous) VALUES ($1, $2, 1, $3, $4, $5, $5, $6) RETURNING ${APP_COLUMNS}`,
        [spec.name, json, hash, source, now, previous],
      );
  if (!rows[0]) throw new StoreError(`app "${spec.name}" vanished while being written`);
  return { app: rowToApp(rows[0]), changed: true };
}

/** The row as SQLite's `previous` JSON keeps it: the app columns only. */
function withoutDeleted(row: AppRow & { deleted_at?: number | null }): AppRow {
  const { deleted_at: _deleted, ...rest } = row;
  return rest;
}
