// Two whole gateways in this process on one PostgreSQL store and one fake engine: an
// update whose new revision never gets ready is rolled back by the leader, whether it
// was applied at a gateway that does not lead or left by a leader killed mid-rollout.
// The store then holds the revision that serves: it kept the one rolled back, so
// every gateway routed and showed it, and each later leader rolled it out (and back) again.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Gateway } from '../../src/gateway/gateway.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { crashingStore } from '../support/crashing-store.js';
import { createTestDatabase, pgSkip } from '../support/pg-test-db.js';
import { waitFor } from '../support/wait-for.js';

const skip = pgSkip();
const token = `test-admin-${Math.random().toString(36).slice(2)}`;
const v1 = { apiVersion: 'berth/v1', name: 'web', image: 'fake/web:1', port: 8080, readiness: { path: '/healthz' }, startTimeout: '500ms', scale: { min: 1, max: 1 } };
const v2 = { ...v1, image: 'fake/web:2' };

async function api(gateway: Gateway, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`http://127.0.0.1:${gateway.adminAddress!.port}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

/** A database, a directory and a fake engine of the test's own; `close` stops its gateways and removes all three. */
async function openBed() {
  const db = await createTestDatabase();
  const dir = await mkdtemp(join(tmpdir(), 'berth-pgroll-'));
  const runtime = new FakeRuntime();
  const gateways: Gateway[] = [];
  /** `wrap`: stands for the gateway's store (to kill it at a chosen call). */
  const start = async (id: string, wrap: (store: Store) => Store = (store) => store) => {
    const config = join(dir, `${id}.yaml`);
    await writeFile(config, `listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nstore: ${db.url}\ngatewayId: ${id}\npolicy:\n  images: ["fake/*"]\napps: []\n`);
    const gateway = new Gateway(config, {
      logger: pino({ level: process.env.BERTH_TEST_LOG ?? 'silent' }),
      openStore: async (c) => wrap(await openStore(c.store)),
      runtime: (_c, hooks) => ((runtime.storeId = hooks.storeId), runtime),
      adminToken: token,
    });
    gateways.push(gateway);
    await gateway.start();
    return gateway;
  };
  const images = () => [...runtime.containers.values()].filter((c) => c.instance.app === 'web' && c.instance.state === 'running').map((c) => c.image);
  const close = async () => {
    for (const g of gateways.reverse()) await g.close().catch(() => undefined);
    await runtime.close();
    await rm(dir, { recursive: true, force: true });
    await db.drop();
  };
  return { db, runtime, gateways, start, images, close };
}

test('an update applied at a gateway that does not lead, rolled back by the leader: the store goes back to the revision that serves, on every gateway', { skip, timeout: 30_000 }, async () => {
  const bed = await openBed();
  try {
    const a = await bed.start('roll-a');
    const b = await bed.start('roll-b');
    assert.equal((await api(a, 'POST', '/v1/apps', v1)).status, 200);
    await waitFor('web runs', () => bed.images().join() === 'fake/web:1', { timeoutMs: 10_000 });
    await waitFor('B knows web', () => b.statuses().some((s) => s.name === 'web'), { timeoutMs: 10_000 });
    bed.runtime.badImages.add('fake/web:2');
    assert.equal((await api(b, 'POST', '/v1/apps', v2)).status, 200);
    await waitFor('the leader rolled it back', () => /update rolled back/.test(String(a.statuses().find((s) => s.name === 'web')?.lastError)), { timeoutMs: 10_000 });
    // The row the update replaced is back: both gateways read revision 1, as the engine runs it.
    await waitFor('the store holds revision 1 again', async () => (await api(a, 'GET', '/v1/apps/web')).json?.revision === 1, { timeoutMs: 5_000 });
    await waitFor('B reads revision 1', async () => (await api(b, 'GET', '/v1/apps/web')).json?.spec?.image === 'fake/web:1', { timeoutMs: 5_000 });
    assert.equal((await api(a, 'GET', '/v1/apps/web')).json.spec.image, 'fake/web:1');
    assert.deepEqual(bed.images(), ['fake/web:1'], 'revision 1 serves');
  } finally {
    await bed.close();
  }
});

/** A lone gateway runs web at revision 1, is killed once its apply of revision 2 is stored (never answered), and is started again alone. */
async function killedMidRollout(bed: Awaited<ReturnType<typeof openBed>>, bad: boolean) {
  let crash!: ReturnType<typeof crashingStore>;
  const a = await bed.start('lone', (store) => (crash = crashingStore(store, { method: 'applyApps', when: 'after' })).store);
  assert.equal((await api(a, 'POST', '/v1/apps', v1)).status, 200);
  await waitFor('web runs', () => bed.images().join() === 'fake/web:1', { timeoutMs: 10_000 });
  const old = [...bed.runtime.containers.values()].find((c) => c.instance.app === 'web')!.instance.id;
  if (bad) bed.runtime.badImages.add('fake/web:2');
  crash.arm();
  const answer = await api(a, 'POST', '/v1/apps', v2);
  await crash.crashed;
  assert.notEqual(answer.status, 200, 'a killed gateway answered nothing');
  bed.gateways.splice(bed.gateways.indexOf(a), 1);
  await a.close().catch(() => undefined);
  return { again: await bed.start('lone'), old };
}

// A lone gateway killed mid-rollout (its apply of revision 2 stored, never answered) and started
// again with no other gateway: its first reconcile, as leader, found revision 1's container stale and
// replaced it; revision 2 never got ready, and the app ended in crashloop with revision 1 gone.
test("a lone gateway killed mid-rollout, started again: the update is rolled out from revision 1's container and rolled back, revision 1 serves on", { skip, timeout: 30_000 }, async () => {
  const bed = await openBed();
  try {
    const { again, old } = await killedMidRollout(bed, true);
    await waitFor('the rollout was rolled back', () => /update rolled back/.test(String(again.statuses().find((s) => s.name === 'web')?.lastError)), { timeoutMs: 10_000 });
    await waitFor('the store holds revision 1', async () => (await api(again, 'GET', '/v1/apps/web')).json?.revision === 1, { timeoutMs: 10_000 });
    await waitFor('web runs', () => again.statuses().find((s) => s.name === 'web')?.state === 'running', { timeoutMs: 10_000 });
    assert.deepEqual(bed.images(), ['fake/web:1'], 'revision 1 serves');
    assert.ok(bed.runtime.containers.has(old), "revision 1's container was kept");
    assert.deepEqual([...bed.runtime.containers.values()].filter((c) => c.instance.app === 'web').map((c) => c.image), ['fake/web:1'], 'no container of revision 2 is left');
  } finally {
    await bed.close();
  }
});

test('a lone gateway killed mid-rollout of a good revision, started again: the rollout is finished and the update settled', { skip, timeout: 30_000 }, async () => {
  const bed = await openBed();
  try {
    const { again } = await killedMidRollout(bed, false);
    await waitFor('revision 2 alone runs', () => bed.images().join() === 'fake/web:2' && [...bed.runtime.containers.values()].filter((c) => c.instance.app === 'web').length === 1, { timeoutMs: 10_000 });
    await waitFor('the update is settled', async () => (await openStoreOf(bed.db.url, (s) => s.replacedUnsettled())).length === 0, { timeoutMs: 10_000 });
    assert.equal((await api(again, 'GET', '/v1/apps/web')).json.revision, 2);
    assert.equal(again.statuses().find((s) => s.name === 'web')?.state, 'running');
  } finally {
    await bed.close();
  }
});

/** Reads the store through a connection of its own, closed after. */
async function openStoreOf<T>(url: string, read: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(url);
  try {
    return await read(store);
  } finally {
    await store.close();
  }
}
