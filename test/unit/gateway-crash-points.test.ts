// "A crash of the gateway at any instant loses no app": a gateway killed at each
// step of an API apply or delete (a store call not made, or made but not answered),
// then the next gateway started on the same SQLite file and the same engine. It must
// show every app at the last revision the API acknowledged, and the engine must hold
// only containers of what it shows.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Gateway } from '../../src/gateway/gateway.js';
import { containerSpecHash } from '../../src/spec/hash.js';
import type { StoredApp } from '../../src/store/store.js';
import { crashingStore, type CrashPoint } from '../support/crashing-store.js';
import { FakeGatewayBed } from '../support/fake-gateway.js';
import { eventually, fakeSpec } from '../support/fake-activator.js';
import { httpGet } from '../support/gateway-harness.js';
import { sleep } from '../support/fake-runtime.js';

const spec = (name: string, tag: string, extra: Record<string, unknown> = {}) => ({ apiVersion: 'berth/v1', name, image: `fake/${name}:${tag}`, port: 8080, readiness: { path: '/healthz' }, startTimeout: '5s', ...extra });

/** The gateway started next: its apps as the API shows them, and the engine's containers. */
async function afterRestart(bed: FakeGatewayBed): Promise<{ gateway: Gateway; apps: Map<string, StoredApp> }> {
  bed.wrapStore = (store) => store;
  const gateway = await bed.start();
  const list = await bed.api(gateway, 'GET', '/v1/apps');
  assert.equal(list.status, 200);
  const apps = new Map<string, StoredApp>(list.json.apps.map((a: StoredApp) => [a.name, a]));
  return { gateway, apps };
}

/** Every container berth's engine holds belongs to a shown app and is of its shown spec. */
function engineAgrees(bed: FakeGatewayBed, apps: Map<string, StoredApp>): void {
  for (const c of bed.runtime.containers.values()) {
    const app = apps.get(c.instance.app);
    assert.ok(app, `container ${c.instance.name} of ${c.instance.app}, which is not declared, was left (${c.instance.state})`);
    assert.equal(c.instance.specHash, containerSpecHash(app.spec), `container ${c.instance.name} is not of revision ${app.revision}`);
  }
}

/** Starts a gateway whose store dies at `point`, once armed; returns it and its arming. */
async function crashingGateway(bed: FakeGatewayBed, point?: CrashPoint) {
  let crash!: ReturnType<typeof crashingStore>;
  bed.wrapStore = (store) => {
    crash = crashingStore(store, point);
    return crash.store;
  };
  const gateway = await bed.start();
  return { gateway, arm: () => crash.arm(), crashed: () => crash.crashed, kill: () => crash.kill() };
}

describe('a gateway killed during an API apply (an update of a running app)', () => {
  const points: Array<[CrashPoint, string]> = [
    [{ method: 'applyApps', when: 'before' }, 'fake/web:1'],
    [{ method: 'applyApps', when: 'after' }, 'fake/web:1'],
    [{ method: 'settleApps', when: 'before' }, 'fake/web:1'],
    // Settled: the apply would have been answered as done, and must stand.
    [{ method: 'settleApps', when: 'after' }, 'fake/web:2'],
  ];
  for (const [point, image] of points) {
    it(`${point.when} ${point.method}: the next gateway serves ${image}, and the engine agrees`, async (t) => {
      const bed = await FakeGatewayBed.create();
      t.after(() => bed.dispose());
      const { gateway, arm, crashed } = await crashingGateway(bed, point);
      assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec('web', '1', { scale: { min: 1, max: 1 } }))).status, 200);
      await eventually('web runs', () => bed.runtime.running('web').length === 1);
      arm();
      const answer = await bed.api(gateway, 'POST', '/v1/apps', spec('web', '2', { scale: { min: 1, max: 1 } }));
      await crashed();
      assert.notEqual(answer.status, 200, 'a killed gateway answered nothing');
      await bed.abandon(gateway);
      const next = await afterRestart(bed);
      assert.equal(next.apps.get('web')?.spec.image, image);
      await eventually('web runs its revision alone', () => bed.runtime.running('web').length === 1 && bed.runtime.running('web')[0]!.specHash === containerSpecHash(next.apps.get('web')!.spec), 5_000);
      engineAgrees(bed, next.apps);
    });
  }
});

// An apply of several apps is stored whole or not at all. One killed before its answer
// used to come back half-applied: the update of one app reverted, the app it created kept.
describe('a gateway killed during an API apply of a batch (one update, one new app)', () => {
  for (const point of [{ method: 'applyApps', when: 'after' }, { method: 'settleApps', when: 'before' }] as CrashPoint[]) {
    it(`${point.when} ${point.method}: the next gateway has neither (web at fake/web:1, no app fresh), and the engine agrees`, async (t) => {
      const bed = await FakeGatewayBed.create();
      t.after(() => bed.dispose());
      const { gateway, arm, crashed } = await crashingGateway(bed, point);
      assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec('web', '1', { scale: { min: 1, max: 1 } }))).status, 200);
      await eventually('web runs', () => bed.runtime.running('web').length === 1);
      arm();
      const answer = await bed.api(gateway, 'POST', '/v1/apps', [spec('web', '2', { scale: { min: 1, max: 1 } }), spec('fresh', '1', { scale: { min: 1, max: 1 } })]);
      await crashed();
      assert.notEqual(answer.status, 200, 'a killed gateway answered nothing');
      await bed.abandon(gateway);
      const next = await afterRestart(bed);
      assert.deepEqual([...next.apps.keys()], ['web']);
      assert.equal(next.apps.get('web')?.spec.image, 'fake/web:1');
      await eventually('only web runs, at revision 1', () => [...bed.runtime.containers.values()].every((c) => c.image === 'fake/web:1') && bed.runtime.running('web').length === 1, 5_000);
      engineAgrees(bed, next.apps);
    });
  }
});

describe('a gateway killed during an API delete', () => {
  for (const point of [{ method: 'deleteApp', when: 'after' }, { method: 'listDeleted', when: 'before' }, { method: 'forgetDeleted', when: 'before' }] as CrashPoint[]) {
    it(`${point.when} ${point.method}: the next gateway finishes the delete, no container of it is left`, async (t) => {
      const bed = await FakeGatewayBed.create();
      t.after(() => bed.dispose());
      const { gateway, arm, crashed } = await crashingGateway(bed, point);
      assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec('web', '1', { scale: { min: 1, max: 1 } }))).status, 200);
      assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec('other', '1'))).status, 200);
      await eventually('web runs', () => bed.runtime.running('web').length === 1);
      arm();
      await bed.api(gateway, 'DELETE', '/v1/apps/web');
      await crashed();
      await bed.abandon(gateway);
      const next = await afterRestart(bed);
      assert.deepEqual([...next.apps.keys()], ['other']);
      await eventually('web has no container', () => [...bed.runtime.containers.values()].every((c) => c.instance.app !== 'web'), 5_000);
      engineAgrees(bed, next.apps);
    });
  }
});

describe('a gateway killed while containers are on their way', () => {
  it('mid-rollout (the new revision started, not ready): the next gateway keeps revision 1 running and removes the new one', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const { gateway, kill } = await crashingGateway(bed);
    const always = { scale: { min: 1, max: 1 } };
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec('web', '1', always))).status, 200);
    await eventually('web runs', () => bed.runtime.running('web').length === 1);
    bed.runtime.badImages.add('fake/web:2');
    // The killed gateway answers nothing (the connection is cut).
    const answer = bed.api(gateway, 'POST', '/v1/apps', spec('web', '2', always)).catch(() => undefined);
    await eventually('revision 2 is started', () => [...bed.runtime.containers.values()].some((c) => c.image === 'fake/web:2' && c.instance.state === 'running'));
    kill();
    await bed.abandon(gateway);
    await answer;
    // What kill -9 leaves whatever the closing did: a container of revision 2, running.
    if (![...bed.runtime.containers.values()].some((c) => c.image === 'fake/web:2')) await bed.runtime.outsideCreate(fakeSpec('web', { image: 'fake/web:2', scale: { min: 1, max: 1 } }), 1);
    bed.runtime.badImages.clear();
    const next = await afterRestart(bed);
    assert.equal(next.apps.get('web')?.spec.image, 'fake/web:1');
    await eventually('only revision 1 is left, running', () => [...bed.runtime.containers.values()].every((c) => c.image === 'fake/web:1') && bed.runtime.running('web').length === 1, 5_000);
    engineAgrees(bed, next.apps);
    const shown = await bed.api(next.gateway, 'GET', '/v1/apps/web');
    assert.equal(shown.json.state, 'running');
  });

  it('mid cold start (created and started, not ready): the next gateway adopts the container and says what it is', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const { gateway, kill } = await crashingGateway(bed);
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec('web', '1'))).status, 200);
    bed.runtime.behave('web', { readyAfterMs: 600 });
    const request = httpGet(gateway.proxyAddress!.port, '/session/web/').catch(() => undefined);
    await eventually('the container runs', () => bed.runtime.running('web').length === 1);
    kill();
    await bed.abandon(gateway);
    await request;
    const next = await afterRestart(bed);
    engineAgrees(bed, next.apps);
    assert.equal(bed.runtime.containers.size, 1, 'one container, adopted; none made beside it');
    // A request is served by the container the killed gateway started.
    assert.equal((await httpGet(next.gateway.proxyAddress!.port, '/session/web/')).status, 200);
    await sleep(50);
    assert.equal(bed.runtime.containers.size, 1);
    assert.equal((await bed.api(next.gateway, 'GET', '/v1/apps/web')).json.state, 'running');
  });
});
