// AppService keeps the desired state honest around rollbacks, without an engine:
// a fake activator rolls back any revision whose image ends in ":broken", as the
// real controller does (it keeps the working containers, and keeps refusing the
// same containers at later applies).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Activator } from '../../src/activator/activator.js';
import { buildConfig } from '../../src/config/load-config.js';
import { BerthError } from '../../src/errors.js';
import { AppService } from '../../src/gateway/app-service.js';
import { StateEvents } from '../../src/gateway/state-events.js';
import type { Runtime } from '../../src/runtime/runtime.js';
import { containerSpecHash, withContainerOf } from '../../src/spec/hash.js';
import type { AppSpec } from '../../src/spec/types.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { appSpec } from '../support/spec-fixture.js';

/** The part of a controller AppService reads, and a rollback like the real one's. */
class FakeController {
  rejected?: string;
  lastError?: string;
  constructor(public spec: AppSpec) {}
  update(next: AppSpec): void {
    if (this.rejected === containerSpecHash(next)) next = withContainerOf(next, this.spec);
    if (next.image.endsWith(':broken') && containerSpecHash(next) !== containerSpecHash(this.spec)) {
      this.rejected = containerSpecHash(next);
      this.spec = withContainerOf(next, this.spec);
      this.lastError = 'update rolled back: exited with code 1';
      throw new Error(this.lastError);
    }
    this.spec = next;
  }
  status() {
    return { lastError: this.lastError };
  }
}

async function setUp() {
  const store = new SqliteStore({ path: ':memory:' });
  await store.open();
  const controllers = new Map<string, FakeController>();
  const lastErrors = new Map<string, string>();
  const activator = { controller: (name: string) => controllers.get(name), lastErrors, status: () => undefined } as unknown as Activator;
  const config = await buildConfig({ listen: '127.0.0.1:0', admin: '127.0.0.1:0', store: ':memory:', policy: { images: [] } }, '/tmp');
  const service = new AppService({
    store,
    runtime: { ping: async () => undefined } as unknown as Runtime, // an engine that answers
    activator,
    events: new StateEvents(),
    config: () => config,
    serialize: (change) => change(),
    desiredChanged: async () => {
      for (const app of await store.listApps()) {
        lastErrors.delete(app.name);
        const c = controllers.get(app.name);
        if (!c) controllers.set(app.name, new FakeController(app.spec));
        else {
          try {
            c.update(app.spec);
          } catch (err) {
            lastErrors.set(app.name, (err as Error).message);
          }
        }
      }
    },
  });
  return { store, service, controllers };
}

const good = (env: Record<string, string> = {}) => appSpec('web', { env }, 'example/web:1');
const broken = () => appSpec('web', { env: { V: '2' } }, 'example/web:broken');

describe('AppService: a rolled-back update is never the desired state', () => {
  it('fails the apply with the reason and keeps the previous row', async () => {
    const { store, service } = await setUp();
    await service.apply([good()]);
    const before = await store.getApp('web');
    await assert.rejects(service.apply([broken()]), (err: unknown) => {
      assert.ok(err instanceof BerthError);
      assert.equal(err.code, 'upstream_unavailable');
      assert.match(err.message, /^web: revision 2 was rolled back, revision 1 keeps serving: exited with code 1/);
      return true;
    });
    assert.deepEqual(await store.getApp('web'), before, 'the stored row is the one before, revision and all');
    assert.deepEqual(await store.revertUnsettled(), [], 'nothing left unsettled');
    await store.close();
  });

  it('fails again, storing nothing, when the same revision is applied again', async () => {
    const { store, service, controllers } = await setUp();
    await service.apply([good()]);
    await assert.rejects(service.apply([broken()]), /rolled back/);
    await assert.rejects(service.apply([broken()]), /web: revision 2 was rolled back, revision 1 keeps serving/);
    assert.equal((await store.getApp('web'))?.revision, 1);
    assert.equal(controllers.get('web')!.spec.image, 'example/web:1', 'the running app keeps the working containers');
    assert.deepEqual(controllers.get('web')!.spec.env, {}, '...and gets its previous settings back');
    await store.close();
  });

  it('names the other apps of the set, which stay applied', async () => {
    const { store, service } = await setUp();
    await service.apply([good()]);
    await assert.rejects(service.apply([broken(), appSpec('shop', {}, 'example/shop:1')]), /\(applied: shop created\)/);
    assert.ok(await store.getApp('shop'));
    await store.close();
  });

  it('an update that deploys is stored and reported as updated', async () => {
    const { store, service } = await setUp();
    await service.apply([good()]);
    const [result] = await service.apply([good({ V: '3' })]);
    assert.deepEqual([result!.action, result!.revision, result!.error], ['updated', 2, undefined]);
    assert.equal((await store.getApp('web'))?.spec.env.V, '3');
    assert.deepEqual(await store.revertUnsettled(), [], 'the update is settled: a restart keeps it');
    await store.close();
  });
});
