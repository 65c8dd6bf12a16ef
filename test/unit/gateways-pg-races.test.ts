// Two whole gateways in this process on one PostgreSQL store and one fake engine
// (as several gateways share a database and a Docker engine), racing changes to
// one app. Whatever the interleaving, the final state is one of the two changes,
// the same on both gateways, in the store, and in the engine.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Gateway } from '../../src/gateway/gateway.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { eventually } from '../support/fake-activator.js';
import { httpGet } from '../support/gateway-harness.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { createTestDatabase, pgSkip } from '../support/pg-test-db.js';
import { waitFor } from '../support/wait-for.js';

const skip = pgSkip();
const token = `test-admin-${Math.random().toString(36).slice(2)}`;
const spec = (tag: string) => ({ apiVersion: 'berth/v1', name: 'web', image: `fake/web:${tag}`, port: 8080, scale: { min: 1, max: 1 } });

async function api(gateway: Gateway, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`http://127.0.0.1:${gateway.adminAddress!.port}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

/** Two (or more) gateways on one PostgreSQL database and one fake engine, as a test sets them up. */
interface Bed {
  dir: string;
  dbUrl: string;
  runtime: FakeRuntime;
  gateways: Gateway[];
}

/** Starts gateway `id` of the bed; `wrap` lets a test hold or watch its store calls. */
async function startGateway(bed: Bed, id: string, wrap: (store: Store) => Store = (s) => s): Promise<Gateway> {
  const config = join(bed.dir, `${id}.yaml`);
  await writeFile(config, `listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nstore: ${bed.dbUrl}\ngatewayId: ${id}\npolicy:\n  images: ["fake/*"]\napps: []\n`);
  const gateway = new Gateway(config, {
    logger: pino({ level: process.env.BERTH_TEST_LOG ?? 'silent' }),
    openStore: async (c) => wrap(await openStore(c.store)),
    runtime: (_c, hooks) => {
      bed.runtime.storeId = hooks.storeId;
      return bed.runtime;
    },
    adminToken: token,
  });
  bed.gateways.push(gateway);
  await gateway.start();
  return gateway;
}

/** A bed of its own: a database, a directory, a fake engine; `close` stops its gateways and removes all three. */
async function openBed(): Promise<{ runtime: FakeRuntime; start: (id: string, wrap?: (store: Store) => Store) => Promise<Gateway>; close: () => Promise<void> }> {
  const db = await createTestDatabase();
  const bed: Bed = { dir: await mkdtemp(join(tmpdir(), 'berth-pgrace-')), dbUrl: db.url, runtime: new FakeRuntime(), gateways: [] };
  return {
    runtime: bed.runtime,
    start: (id, wrap) => startGateway(bed, id, wrap),
    close: async () => {
      for (const gateway of bed.gateways.reverse()) await gateway.close().catch(() => undefined);
      await bed.runtime.close();
      await rm(bed.dir, { recursive: true, force: true });
      await db.drop();
    },
  };
}

test('the same app applied at two gateways at once: the later revision stands on both, in the store and the engine', { skip, timeout: 30_000 }, async () => {
  const bed = await openBed();
  const { runtime, start } = bed;
  // Gateway A's apply, once committed, waits for B's to commit too: B's revision is the later one,
  // and A carries its own out only after it (the interleaving two gateways hit by chance).
  let bCommitted!: () => void;
  const afterB = new Promise<void>((resolve) => (bCommitted = resolve));
  try {
    let holdA = false;
    let aCommitted = false;
    const a = await start('race-a', (store) => {
      const applyApps = store.applyApps.bind(store);
      store.applyApps = async (...args) => {
        const put = await applyApps(...args);
        if (holdA) {
          aCommitted = true;
          await afterB;
        }
        return put;
      };
      return store;
    });
    const b = await start('race-b', (store) => {
      const applyApps = store.applyApps.bind(store);
      store.applyApps = async (...args) => {
        const put = await applyApps(...args);
        bCommitted();
        return put;
      };
      return store;
    });
    assert.equal((await api(a, 'POST', '/v1/apps', spec('1'))).status, 200);
    await waitFor('B knows web', async () => (await api(b, 'GET', '/v1/apps/web')).status === 200, { timeoutMs: 5_000 });
    holdA = true;
    const atA = api(a, 'POST', '/v1/apps', spec('a'));
    await waitFor("A's revision 2 committed", () => aCommitted, { timeoutMs: 5_000 });
    const atB = await api(b, 'POST', '/v1/apps', spec('b'));
    const answerA = await atA;
    assert.equal(atB.status, 200, JSON.stringify(atB.json));
    assert.equal(answerA.status, 200, JSON.stringify(answerA.json));
    assert.deepEqual([answerA.json.results[0].revision, atB.json.results[0].revision], [2, 3]);
    // Revision 3 (B's) is the desired state everywhere: both gateways show it, and the engine runs it alone.
    for (const gateway of [a, b]) {
      await waitFor(`${gateway === a ? 'A' : 'B'} shows revision 3`, async () => {
        const shown = await api(gateway, 'GET', '/v1/apps/web');
        return shown.json?.revision === 3 && shown.json.spec.image === 'fake/web:b';
      }, { timeoutMs: 8_000 });
    }
    await eventually('only fake/web:b runs', () => runtime.running('web').length === 1 && [...runtime.containers.values()].filter((c) => c.instance.app === 'web').every((c) => c.image === 'fake/web:b'), 8_000);
  } finally {
    await bed.close();
  }
});

test('an app deleted at one gateway while another cold-starts it: gone on both, and no container is left', { skip, timeout: 30_000 }, async () => {
  const bed = await openBed();
  const { runtime, start } = bed;
  runtime.behaviour.set('lazy', { startDelayMs: 300, readyAfterMs: 1_000 });
  try {
    const a = await start('del-a');
    const b = await start('del-b');
    const lazy = { apiVersion: 'berth/v1', name: 'lazy', image: 'fake/lazy:1', port: 8080, readiness: { path: '/healthz' } };
    assert.equal((await api(a, 'POST', '/v1/apps', lazy)).status, 200);
    // B's own activator and routes, not only the shared store (which its API reads), must know
    // the app before the request: until A's notice reaches B, B's proxy answers 404.
    await waitFor('B routes lazy', async () => (await api(b, 'GET', '/v1/apps/lazy')).json?.status != null, { timeoutMs: 10_000 });
    let early: number | undefined;
    const request = httpGet(b.proxyAddress!.port, '/session/lazy/').then((answer) => ((early = answer.status), answer));
    await waitFor('the cold start under way at B', () => runtime.calls.start > 0 || early !== undefined, { timeoutMs: 10_000 });
    assert.ok(runtime.calls.start > 0, `B answered ${early} before it started anything`);
    assert.equal((await api(a, 'DELETE', '/v1/apps/lazy')).status, 200);
    const answer = await request;
    assert.ok(answer.status >= 200, `the held request is answered (${answer.status})`);
    for (const gateway of [a, b]) {
      await waitFor(`${gateway === a ? 'A' : 'B'} no longer has lazy`, async () => (await api(gateway, 'GET', '/v1/apps/lazy')).status === 404, { timeoutMs: 8_000 });
    }
    await waitFor('no container of lazy in the engine', () => [...runtime.containers.values()].every((c) => c.instance.app !== 'lazy'), { timeoutMs: 10_000 });
    // And it stays gone: a second look after the other gateway's reconcile had its chance.
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual([...runtime.containers.values()].filter((c) => c.instance.app === 'lazy').map((c) => c.instance.name), []);
  } finally {
    await bed.close();
  }
});

test("an app created at one gateway and cold-started there while the leader reloads: the leader's reload does not take its container for an orphan", { skip, timeout: 30_000 }, async () => {
  const bed = await openBed();
  const { runtime, start } = bed;
  // The leader's reload, once it has read the apps, waits here (before it lists the engine) while the other gateway works.
  let pauseReload = false;
  let reloadPaused!: () => void;
  const paused = new Promise<void>((resolve) => (reloadPaused = resolve));
  let resume!: () => void;
  const resumed = new Promise<void>((resolve) => (resume = resolve));
  try {
    const leader = await start('rl-a', (store) => {
      const listDeleted = store.listDeleted.bind(store);
      store.listDeleted = async () => {
        if (pauseReload) {
          pauseReload = false;
          reloadPaused();
          await resumed;
        }
        return listDeleted();
      };
      return store;
    });
    await waitFor('rl-a leads', () => leader.cluster?.leading, { timeoutMs: 5_000 });
    const other = await start('rl-b');
    pauseReload = true;
    const reload = leader.reload();
    await paused;
    const fresh = { apiVersion: 'berth/v1', name: 'fresh', image: 'fake/fresh:1', port: 8080, readiness: { path: '/healthz' } };
    assert.equal((await api(other, 'POST', '/v1/apps', fresh)).status, 200);
    assert.equal((await httpGet(other.proxyAddress!.port, '/session/fresh/')).status, 200);
    const [container] = [...runtime.containers.values()].filter((c) => c.instance.app === 'fresh');
    assert.ok(container, 'the cold start at rl-b made a container');
    resume();
    await reload;
    await waitFor('the leader knows fresh', async () => (await api(leader, 'GET', '/v1/apps/fresh')).status === 200, { timeoutMs: 8_000 });
    assert.deepEqual(runtime.running('fresh').map((i) => i.id), [container.instance.id], "fresh's container runs on, not taken for an orphan");
    const starts = runtime.calls.start;
    assert.equal((await httpGet(other.proxyAddress!.port, '/session/fresh/')).status, 200);
    assert.equal(runtime.calls.start, starts, 'served by the same container, not started again');
  } finally {
    resume();
    await bed.close();
  }
});

test('an app scaled at one gateway: the other follows the count, so its own cold start starts that many instances', { skip, timeout: 30_000 }, async () => {
  const bed = await openBed();
  const { runtime, start } = bed;
  try {
    const a = await start('scale-a');
    const b = await start('scale-b');
    const web = { apiVersion: 'berth/v1', name: 'wide', image: 'fake/wide:1', port: 8080, scale: { min: 0, max: 3, replicas: 1 } };
    assert.equal((await api(a, 'POST', '/v1/apps', web)).status, 200);
    await waitFor('B knows wide', () => b.statuses().some((s) => s.name === 'wide'), { timeoutMs: 10_000 });
    // Scaled while stopped: only the count changes, kept in the store for the next start, wherever it happens.
    assert.equal((await api(a, 'POST', '/v1/apps/wide/scale', { replicas: 3 })).status, 200);
    // B never heard of it: no notice was sent, and the periodic resync compared specs only, not the kept count.
    await waitFor('B follows the count', () => b.statuses().find((s) => s.name === 'wide')?.replicas === 3, { timeoutMs: 12_000 });
    assert.equal((await httpGet(b.proxyAddress!.port, '/session/wide/')).status, 200);
    const running = () => [...runtime.containers.values()].filter((c) => c.instance.app === 'wide' && c.instance.state === 'running').length;
    await waitFor('3 instances of wide running', () => running() === 3, { timeoutMs: 10_000 });
  } finally {
    await bed.close();
  }
});

test('two apps claiming one host at two gateways at once: the second to reach the store is refused with 409, and one app answers the host on both', { skip, timeout: 30_000 }, async () => {
  const bed = await openBed();
  const claim = (name: string) => ({ apiVersion: 'berth/v1', name, image: `fake/${name}:1`, port: 8080, routes: [{ host: 'shop.example.test' }] });
  try {
    const a = await bed.start('claim-a');
    // B checks bob against its own copy of the apps (no alice yet), then waits at the store until A has stored alice.
    let bAtStore!: () => void;
    const bWaiting = new Promise<void>((resolve) => (bAtStore = resolve));
    let aStored!: () => void;
    const afterA = new Promise<void>((resolve) => (aStored = resolve));
    const b = await bed.start('claim-b', (store) => {
      const applyApps = store.applyApps.bind(store);
      store.applyApps = async (...args) => {
        if (args[0].some((s) => s.name === 'bob')) {
          bAtStore();
          await afterA;
        }
        return applyApps(...args);
      };
      return store;
    });
    const atB = api(b, 'POST', '/v1/apps', claim('bob'));
    await bWaiting;
    const atA = await api(a, 'POST', '/v1/apps', claim('alice'));
    assert.equal(atA.status, 200, JSON.stringify(atA.json));
    aStored();
    const refused = await atB;
    assert.equal(refused.status, 409, JSON.stringify(refused.json));
    assert.match(refused.json.detail, /bob claims host shop\.example\.test.*which app alice answers/);
    for (const [gateway, id] of [[a, 'A'], [b, 'B']] as const) {
      assert.equal((await api(gateway, 'GET', '/v1/apps/bob')).status, 404, `${id} has no bob`);
      await waitFor(`${id} shows alice`, async () => (await api(gateway, 'GET', '/v1/apps/alice')).status === 200, { timeoutMs: 5_000 });
    }
    // B's next apply of bob is checked against alice as any other: the problem names the field.
    const again = await api(b, 'POST', '/v1/apps', claim('bob'));
    assert.equal(again.status, 422, JSON.stringify(again.json));
  } finally {
    await bed.close();
  }
});
