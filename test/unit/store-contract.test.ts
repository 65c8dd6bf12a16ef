import { after, before } from 'node:test';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresStore } from '../../src/store/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { createTestDatabase, pgSkip } from '../support/pg-test-db.js';
import { appsContract } from '../support/store-contract-apps.js';
import { recordsContract } from '../support/store-contract-records.js';
import { certificatesContract } from '../support/store-contract-certificates.js';
import type { FixtureFactory } from '../support/store-contract.js';

/** The same contract for both stores; PostgreSQL on a database of its own per test. */

let root = '';
let counter = 0;
before(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'berth-contract-'));
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const sqlite: FixtureFactory = async () => {
  const dir = join(root, `case-${++counter}`);
  const path = join(dir, 'berth.db');
  return {
    open: async () => {
      const store = new SqliteStore({ path });
      await store.open();
      return store;
    },
    dispose: () => fs.rm(dir, { recursive: true, force: true }),
  };
};

const postgres: FixtureFactory = async () => {
  const db = await createTestDatabase();
  return {
    open: async () => {
      const store = new PostgresStore({ url: db.url });
      await store.open();
      return store;
    },
    dispose: () => db.drop(),
  };
};

// Evaluated when the file loads: under CI without a server this throws, and the file fails.
const skipPg = pgSkip();

appsContract('SQLite', sqlite);
recordsContract('SQLite', sqlite);
certificatesContract('SQLite', sqlite);
appsContract('PostgreSQL', postgres, skipPg);
recordsContract('PostgreSQL', postgres, skipPg);
certificatesContract('PostgreSQL', postgres, skipPg);
