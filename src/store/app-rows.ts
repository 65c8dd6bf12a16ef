import { StoreError } from '../errors.js';
import type { AppSpec } from '../spec/types.js';
import { withSpecDefaults } from '../spec/normalize.js';
import type { AppRevision, AppSource, StoredApp } from './store.js';

/** One row of the `apps` table as better-sqlite3 returns it. */
export interface AppRow {
  name: string;
  spec: string;
  revision: number;
  spec_hash: string;
  source: string;
  created_at: number;
  updated_at: number;
  replicas: number | null;
}

/** Whether revertUnsettled puts back this unsettled row: every one, or only the revisions named. Pure. */
export function isRevertible(row: AppRevision, only: readonly AppRevision[] | undefined): boolean {
  return only === undefined || only.some((r) => r.name === row.name && r.revision === row.revision);
}

/** The rows unsettled updates replaced, from their `previous` JSON (null: the update created the app, nothing was replaced). Pure. */
export function replacedRows(unsettled: readonly { previous: string }[]): StoredApp[] {
  return unsettled.map((r) => JSON.parse(r.previous) as AppRow | null).filter((row): row is AppRow => row !== null).map((row) => rowToApp({ ...row, replicas: row.replicas ?? null }));
}

export const APP_COLUMNS = 'name, spec, revision, spec_hash, source, created_at, updated_at, replicas';

export function rowToApp(row: AppRow): StoredApp {
  let spec: AppSpec;
  try {
    spec = withSpecDefaults(JSON.parse(row.spec) as AppSpec);
  } catch (err) {
    throw new StoreError(`stored spec of app "${row.name}" is not valid JSON`, { cause: err });
  }
  const app: StoredApp = {
    name: row.name,
    spec,
    revision: row.revision,
    specHash: row.spec_hash,
    // The table's CHECK constraint admits only the two sources.
    source: row.source as AppSource,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
  if (row.replicas !== null) app.replicas = row.replicas;
  return app;
}
