/**
 * How long the request history's count prune takes with many apps: 10,000 apps with a few
 * records each, then one flooded app with 200,000, against the default maxRecords
 * (100,000), in a SQLite file (the writer thread prunes it) and, when BERTH_TEST_PG_URL is
 * set, in PostgreSQL. Then the steady state: 1,000 more records of the flooded app and a
 * prune again, as once a minute under that flood. `node dist/bench/history-prune.js` prints
 * the times; PG_BENCH=0 leaves PostgreSQL out.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresStore } from '../src/store/postgres-store.js';
import { SqliteStore } from '../src/store/sqlite-store.js';
import type { RequestRecord, Store } from '../src/store/store.js';
import { createTestDatabase } from '../test/support/pg-test-db.js';

const APPS = 10_000;
const PER_APP = 5;
const FLOOD = 200_000;
const MAX_RECORDS = 100_000;
const T0 = 1_700_000_000_000;
const retention = { maxRecords: MAX_RECORDS, maxAgeMs: Number.POSITIVE_INFINITY };

const rec = (app: string, time: number): RequestRecord => ({
  timeMs: time, app, method: 'GET', path: `/session/${app}/x`, status: 200, durationMs: 1, bytesIn: 0, bytesOut: 100, client: '127.0.0.1', waited: false, instance: 'c0',
});

async function fill(store: Store, records: (i: number) => RequestRecord, n: number): Promise<void> {
  for (let i = 0; i < n; i += 10_000) {
    await store.appendRequests(Array.from({ length: Math.min(10_000, n - i) }, (_, k) => records(i + k)));
  }
}

async function timed(label: string, fn: () => Promise<number>): Promise<void> {
  const started = process.hrtime.bigint();
  const deleted = await fn();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  console.log(`${label}: ${ms.toFixed(0)} ms, ${deleted} deleted`);
}

async function run(kind: string, store: Store): Promise<void> {
  await fill(store, (i) => rec(`app-${String(i % APPS).padStart(5, '0')}`, T0 + i), APPS * PER_APP);
  await fill(store, (i) => rec('flooded', T0 + APPS * PER_APP + i), FLOOD);
  await timed(`${kind}: ${APPS} apps × ${PER_APP} + 1 × ${FLOOD}, maxRecords ${MAX_RECORDS}`, () => store.pruneRequests(retention, new Date()));
  await timed(`${kind}: the same, nothing over the cap`, () => store.pruneRequests(retention, new Date()));
  await fill(store, (i) => rec('flooded', T0 + APPS * PER_APP + FLOOD + i), 1000);
  await timed(`${kind}: 1,000 more of the flooded app`, () => store.pruneRequests(retention, new Date()));
  const small = await store.queryRequests({ app: 'app-00000' });
  const flooded = await store.queryRequests({ app: 'flooded', limit: 1 });
  console.log(`${kind}: app-00000 keeps ${small.items.length}; flooded newest ${flooded.items[0]?.time.getTime()}`);
}

const dir = await fs.mkdtemp(join(tmpdir(), 'berth-prune-bench-'));
try {
  const sqlite = new SqliteStore({ path: join(dir, 'berth.db') });
  await sqlite.open();
  try {
    await run('SQLite', sqlite);
  } finally {
    await sqlite.close();
  }
} finally {
  await fs.rm(dir, { recursive: true, force: true });
}
if (process.env.BERTH_TEST_PG_URL && process.env.PG_BENCH !== '0') {
  const db = await createTestDatabase();
  const pgStore = new PostgresStore({ url: db.url });
  try {
    await pgStore.open();
    await run('PostgreSQL', pgStore);
  } finally {
    await pgStore.close();
    await db.drop();
  }
}
