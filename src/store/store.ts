import type { AppSpec } from '../spec/types.js';

/** Where an app's desired state came from. Config-sourced apps are replaced on reload. */
export type AppSource = 'config' | 'api';

export interface StoredApp {
  name: string;
  spec: AppSpec;
  /** Starts at 1, grows by one on every change of the spec. */
  revision: number;
  specHash: string;
  source: AppSource;
  createdAt: Date;
  updatedAt: Date;
}

export interface PutResult {
  app: StoredApp;
  /** False when the stored spec was already identical (no new revision). */
  changed: boolean;
}

/**
 * Desired state. SQLite by default; PostgreSQL later, hence the async surface.
 * Every write is atomic: a batch is applied whole or not at all.
 */
export interface Store {
  open(): Promise<void>;
  close(): Promise<void>;
  listApps(): Promise<StoredApp[]>;
  getApp(name: string): Promise<StoredApp | undefined>;
  /** Puts several specs and removes the named apps in one transaction. */
  applyApps(specs: AppSpec[], source: AppSource, removeNames?: string[]): Promise<PutResult[]>;
  deleteApp(name: string): Promise<boolean>;
}
