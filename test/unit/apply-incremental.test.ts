// An apply is validated against the stored apps it can conflict with, not the whole
// set; these cases check the whole-set guarantee still holds: a conflict with an app
// NOT in the change is refused, as before.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Activator } from '../../src/activator/activator.js';
import { buildConfig } from '../../src/config/load-config.js';
import { ConflictError, SpecError } from '../../src/errors.js';
import { AppService } from '../../src/gateway/app-service.js';
import { DesiredIndex } from '../../src/gateway/desired-index.js';
import { StateEvents } from '../../src/gateway/state-events.js';
import type { Runtime } from '../../src/runtime/runtime.js';
import type { AppSpec } from '../../src/spec/types.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { appSpec } from '../support/spec-fixture.js';

/** An AppService over a real (in-memory) store whose index follows only what changed, as the gateway's does. */
async function setUp() {
  const store = new SqliteStore({ path: ':memory:' });
  await store.open();
  const desired = new DesiredIndex();
  const reconciled: string[][] = [];
  const activator = { controller: () => undefined, lastErrors: new Map(), status: () => undefined } as unknown as Activator;
  const config = await buildConfig({ listen: '127.0.0.1:0', admin: '127.0.0.1:0', store: ':memory:', policy: { images: [] } }, '/tmp');
  const service = new AppService({
    store,
    runtime: { ping: async () => undefined } as unknown as Runtime, // an engine that answers
    activator,
    events: new StateEvents(),
    config: () => config,
    serialize: (change) => change(),
    desired,
    desiredChanged: async (removed, _options, changed) => {
      assert.ok(changed, 'an API change names what changed');
      for (const name of [...removed, ...changed]) desired.delete(name);
      for (const name of changed) {
        const app = await store.getApp(name);
        if (app) desired.set(app.spec);
      }
      reconciled.push([...changed, ...removed]);
    },
  });
  return { store, service, desired, reconciled };
}

const withRoute = (name: string, route: AppSpec['routes'][number], more: Partial<AppSpec> = {}) => appSpec(name, { routes: [route], ...more });

/** Many unrelated apps, so a conflict is with one stored app among many. */
function crowd(n: number): AppSpec[] {
  return Array.from({ length: n }, (_, i) => appSpec(`app-${i}`));
}

describe('apply: incremental validation keeps the whole-set guarantee', () => {
  it('refuses a route already answered by a stored app outside the change, naming it', async () => {
    const { service, store } = await setUp();
    await service.apply([...crowd(50), withRoute('alice', { host: 'alice.example.com', stripPrefix: false })]);
    await assert.rejects(service.apply([withRoute('bob', { host: 'ALICE.example.com', stripPrefix: false })]), (err: unknown) => {
      assert.ok(err instanceof SpecError);
      assert.match(err.message, /app "bob" has the same route \(host alice\.example\.com, path \/\) as app "alice"/i);
      return true;
    });
    assert.equal(await store.getApp('bob'), undefined, 'nothing stored');
    // A wildcard host serves <name>.suffix: an exact host of that name is the same route.
    await service.apply([withRoute('carol', { host: '*.apps.example.com', stripPrefix: false })]);
    await assert.rejects(service.apply([withRoute('dave', { host: 'carol.apps.example.com', stripPrefix: false })]), /same route/);
    await store.close();
  });

  it('frees the routes of an updated or deleted app', async () => {
    const { service, store } = await setUp();
    await service.apply([withRoute('alice', { path: '/shop/', stripPrefix: false })]);
    await service.apply([withRoute('alice', { path: '/store/', stripPrefix: false })]);
    await service.apply([withRoute('bob', { path: '/shop/', stripPrefix: false })]);
    await assert.rejects(service.apply([withRoute('carol', { path: '/store/', stripPrefix: false })]), /as app "alice"/);
    await service.delete('alice');
    await service.apply([withRoute('carol', { path: '/store/', stripPrefix: false })]);
    assert.equal((await store.getApp('carol'))?.revision, 1);
    await store.close();
  });

  it('refuses a dependsOn naming no app, and a cycle through stored apps outside the change', async () => {
    const { service, store } = await setUp();
    await service.apply([...crowd(20), appSpec('db'), appSpec('back', { dependsOn: ['db'] }), appSpec('web', { dependsOn: ['back'] })]);
    await assert.rejects(service.apply([appSpec('x', { dependsOn: ['nope'] })]), /app "x" depends on "nope", which is not a declared app/);
    // db → web → api → db: only db is in the change.
    await assert.rejects(service.apply([appSpec('db', { dependsOn: ['web'] })]), (err: unknown) => {
      assert.ok(err instanceof SpecError);
      assert.match(err.message, /dependsOn forms a cycle/);
      assert.match(err.message, /db → web → back → db|back → db → web → back|web → back → db → web/);
      return true;
    });
    assert.deepEqual((await store.getApp('db'))?.spec.dependsOn, [], 'the stored db is unchanged');
    await assert.rejects(service.delete('db'), (err: unknown) => err instanceof ConflictError && /dependsOn of back/.test(err.message));
    await store.close();
  });

  it('reconciles only what changed', async () => {
    const { service, store, reconciled } = await setUp();
    await service.apply(crowd(30));
    reconciled.length = 0;
    await service.apply([appSpec('app-3', { env: { A: '1' } }), appSpec('app-4'), appSpec('new')]);
    assert.deepEqual(reconciled, [['app-3', 'new']], 'app-4 is unchanged, the other 28 untouched');
    await service.delete('new');
    assert.deepEqual(reconciled.at(-1), ['new']);
    await store.close();
  });
});

describe('DesiredIndex.related', () => {
  it('is the route owners and the dependsOn closure, in name order, and nothing else', () => {
    const index = new DesiredIndex();
    const stored = [
      ...crowd(100),
      withRoute('owner', { path: '/taken/', stripPrefix: false }),
      appSpec('c', { dependsOn: ['d'] }),
      appSpec('d'),
      appSpec('b', { dependsOn: ['c'] }),
    ];
    index.reset(stored.map((spec) => ({ name: spec.name, spec, revision: 1, specHash: '', source: 'api', createdAt: new Date(), updatedAt: new Date() })));
    const incoming = [withRoute('new', { path: '/taken', stripPrefix: true }, { dependsOn: ['b'] })];
    assert.deepEqual(index.related(incoming).map((s) => s.name), ['b', 'c', 'd', 'owner']);
    assert.deepEqual(index.related([appSpec('lonely')]), []);
    assert.deepEqual(index.dependentsOf('c'), ['b']);
  });
});
