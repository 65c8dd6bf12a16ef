// Two gateways on one PostgreSQL store each check an apply or a delete against their own
// copy of the apps; the store checks again under its apps lock, in the transaction that
// writes the change, so two clashing changes through two gateways at once cannot both be
// stored: two apps claiming one route (before, both were: the later one got the traffic,
// and every later config reload was refused for the pair), an app depending on one deleted
// meanwhile, or the delete of an app another now depends on. Two PostgresStore instances
// stand for the two gateways.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { ConflictError } from '../../src/errors.js';
import { parseSpecObject } from '../../src/spec/index.js';
import type { AppSpec } from '../../src/spec/types.js';
import { PostgresStore } from '../../src/store/postgres-store.js';
import { createTestDatabase, pgSkip, type TestDatabase } from '../support/pg-test-db.js';

const skip = pgSkip();

/** A spec as the API stores it (normalized by the parser: a lower-case host, a path ending in "/"). */
const app = (name: string, routes: Array<{ host?: string; path?: string }>, image = `example/${name}:1`, dependsOn: string[] = []): AppSpec =>
  parseSpecObject({ apiVersion: 'berth/v1', name, image, port: 8080, routes, ...(dependsOn.length > 0 ? { dependsOn } : {}) });

const conflictNaming = (...words: string[]) => (err: unknown) => err instanceof ConflictError && words.every((w) => err.message.includes(w));

describe('clashing changes through two gateways on one PostgreSQL store', { skip, timeout: 60_000 }, () => {
  let db: TestDatabase | undefined;
  let a: PostgresStore;
  let b: PostgresStore;

  before(async () => {
    db = await createTestDatabase();
    a = new PostgresStore({ url: db.url });
    b = new PostgresStore({ url: db.url });
    await a.open();
    await b.open();
  });

  after(async () => {
    await a?.close().catch(() => undefined);
    await b?.close().catch(() => undefined);
    await db?.drop();
  });

  test('a host another gateway stored is refused, naming both apps, and nothing of the batch is written', async () => {
    await a.applyApps([app('alice', [{ host: 'shop.example.com' }])], 'api');
    await assert.rejects(b.applyApps([app('carol', [{ path: '/carol/' }]), app('bob', [{ host: 'Shop.Example.com' }])], 'api'), conflictNaming('bob', 'alice', 'shop.example.com'));
    assert.equal(await b.getApp('bob'), undefined);
    assert.equal(await b.getApp('carol'), undefined, 'the whole batch is refused');
    // Another path on that host is another route.
    const [put] = await b.applyApps([app('bob', [{ host: 'shop.example.com', path: '/bob' }])], 'api');
    assert.equal(put!.app.name, 'bob');
  });

  test('an app keeps its own routes through an update, at either gateway', async () => {
    const [put] = await b.applyApps([app('alice', [{ host: 'shop.example.com' }], 'example/alice:2')], 'api');
    assert.equal(put!.changed, true);
    assert.equal(put!.app.revision, 2);
  });

  test('a path prefix is one route however it was written, and a route without a host is every host’s', async () => {
    await a.applyApps([app('paths', [{ path: '/shared' }])], 'api');
    await assert.rejects(b.applyApps([app('paths2', [{ path: '/shared/' }])], 'api'), conflictNaming('paths2', 'paths', 'any', '/shared/'));
    // The same path under a named host is another route (the host's own routes are tried first).
    await b.applyApps([app('paths2', [{ host: 'other.example.com', path: '/shared/' }])], 'api');
  });

  test("a wildcard host is the app's own name under it: it clashes with that exact host only", async () => {
    await a.applyApps([app('x', [{ host: '*.apps.test' }])], 'api');
    await assert.rejects(b.applyApps([app('y', [{ host: 'x.apps.test' }])], 'api'), conflictNaming('y', 'x', 'x.apps.test'));
    // Many apps share one wildcard: that is its purpose.
    await b.applyApps([app('y', [{ host: '*.apps.test' }])], 'api');
    await assert.rejects(a.applyApps([app('z', [{ host: 'y.apps.test', path: '/' }])], 'api'), conflictNaming('z', 'y'));
  });

  test("a deleted app's routes are free again, and an apply that removes the holder in the same transaction may take them", async () => {
    await a.applyApps([app('old', [{ host: 'recycled.example.com' }])], 'api');
    assert.equal(await a.deleteApp('old'), true);
    await b.applyApps([app('new', [{ host: 'recycled.example.com' }])], 'api');
    // A config reload removing `new` and declaring `newer` on its host: one transaction, no conflict with itself.
    const [put] = await a.applyApps([app('newer', [{ host: 'recycled.example.com' }])], 'config', ['new']);
    assert.equal(put!.app.name, 'newer');
    assert.equal(await a.getApp('new'), undefined);
  });

  test('two gateways claiming one route at the same moment: exactly one is stored, over and over', async () => {
    for (let round = 0; round < 10; round++) {
      const host = `race${round}.example.com`;
      const outcomes = await Promise.allSettled([a.applyApps([app(`ra${round}`, [{ host }])], 'api'), b.applyApps([app(`rb${round}`, [{ host }])], 'api')]);
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1, `round ${round}: one stored`);
      const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
      assert.ok(refused.reason instanceof ConflictError, String(refused.reason));
      const holders = (await a.listApps()).filter((s) => s.spec.routes.some((r) => r.host === host));
      assert.equal(holders.length, 1, `round ${round}: one app answers ${host}`);
    }
  });

  test('an apply that claims no new route does not read the other apps', async () => {
    await a.applyApps([app('steady', [{ host: 'steady.example.com' }])], 'api');
    // Another app's row made unreadable to the route lookup (its routes not a list): an apply that reads it fails.
    const client = new pg.Client({ connectionString: db!.url });
    await client.connect();
    try {
      await client.query(`UPDATE apps SET spec = jsonb_set(spec::jsonb, '{routes}', '5')::text WHERE name = 'x'`);
      const [same] = await b.applyApps([app('steady', [{ host: 'steady.example.com' }], 'example/steady:2')], 'api');
      assert.equal(same!.app.revision, 2, 'the same routes: stored without the lookup');
      await assert.rejects(b.applyApps([app('steady', [{ host: 'steady.example.com' }, { host: 'more.example.com' }])], 'api'), /cannot extract elements from a scalar/);
    } finally {
      await client.query(`UPDATE apps SET spec = jsonb_set(spec::jsonb, '{routes}', '[{"host": "*.apps.test", "stripPrefix": false}]')::text WHERE name = 'x'`);
      await client.end();
    }
  });

  test('a host-network port another gateway stored is refused; an app keeps its own port through an update', async () => {
    const onHost = (name: string, port: number, image = `example/${name}:1`): AppSpec =>
      parseSpecObject({ apiVersion: 'berth/v1', name, image, port, routes: [{ path: `/${name}/` }], security: { hostNetwork: true } });
    await a.applyApps([onHost('h1', 9301)], 'api');
    await assert.rejects(b.applyApps([onHost('h2', 9301)], 'api'), conflictNaming('h2', 'h1', '9301'));
    assert.equal(await b.getApp('h2'), undefined);
    // Off the host network the same port number is the container's own: no claim.
    await b.applyApps([parseSpecObject({ apiVersion: 'berth/v1', name: 'h3', image: 'example/h3:1', port: 9301, routes: [{ path: '/h3/' }] })], 'api');
    await b.applyApps([onHost('h1', 9301, 'example/h1:2')], 'api');
    await b.applyApps([onHost('h2', 9302)], 'api');
  });

  test('an app depending on one deleted meanwhile at the other gateway is refused; on one still there, stored', async () => {
    await a.applyApps([app('db', [{ path: '/db/' }])], 'api');
    assert.equal(await a.deleteApp('db', { refuseDependents: true }), true);
    await assert.rejects(b.applyApps([app('web', [{ path: '/web/' }], 'example/web:1', ['db'])], 'api'), conflictNaming('web', 'db', 'no longer stored'));
    assert.equal(await b.getApp('web'), undefined);
    // With its dependency in the same batch, or stored, it is.
    await b.applyApps([app('db', [{ path: '/db/' }]), app('web', [{ path: '/web/' }], 'example/web:1', ['db'])], 'api');
    await a.applyApps([app('api', [{ path: '/api/' }], 'example/api:1', ['db'])], 'api');
    // The config's apps are each gateway's operator's, checked whole against the stored apps at a reload (and a
    // gateway's start is never refused for a clash with an API app): the store does not check them again.
    const [configured] = await a.applyApps([app('worker', [{ path: '/web/' }], 'example/worker:1', ['gone'])], 'config');
    assert.equal(configured!.app.name, 'worker');
    await a.applyApps([], 'config', ['worker']);
  });

  test('the delete of an app another gateway has meanwhile made a dependency of is refused, and the app stays', async () => {
    await assert.rejects(b.deleteApp('db', { refuseDependents: true }), conflictNaming('db', 'api', 'web'));
    assert.ok(await b.getApp('db'), 'still stored');
    // Without dependents (or when the gateway undoes its own apply, which does not ask) it goes.
    await a.applyApps([app('lonely', [{ path: '/lonely/' }])], 'api');
    assert.equal(await b.deleteApp('lonely', { refuseDependents: true }), true);
    assert.equal(await b.deleteApp('db'), true, 'no check asked: the tombstone is written');
    await a.applyApps([app('db', [{ path: '/db/' }])], 'api');
  });

  test('a dependsOn cycle closed through two gateways is refused: each gateway saw only its own half', async () => {
    await a.applyApps([app('c1', [{ path: '/c1/' }]), app('c2', [{ path: '/c2/' }]), app('c3', [{ path: '/c3/' }])], 'api');
    // At gateway a, c1 → c2 → c3; gateway b, whose copy still has c1 and c2 without dependencies, makes c3 → c1.
    await a.applyApps([app('c1', [{ path: '/c1/' }], 'example/c1:1', ['c2']), app('c2', [{ path: '/c2/' }], 'example/c2:1', ['c3'])], 'api');
    await assert.rejects(b.applyApps([app('c3', [{ path: '/c3/' }], 'example/c3:1', ['c1'])], 'api'), conflictNaming('cycle', 'c3 → c1 → c2 → c3'));
    assert.deepEqual((await b.getApp('c3'))!.spec.dependsOn, [], 'not stored');
    // A dependency that closes no cycle is stored; an update keeping its dependencies reads no other row.
    await b.applyApps([app('c3', [{ path: '/c3/' }], 'example/c3:1', ['db'])], 'api');
    await b.applyApps([app('c3', [{ path: '/c3/' }], 'example/c3:2', ['db'])], 'api');
    // A batch that breaks the loop itself may close it: its own specs count, not their stored rows.
    await b.applyApps([app('c1', [{ path: '/c1/' }], 'example/c1:2'), app('c3', [{ path: '/c3/' }], 'example/c3:1', ['c1'])], 'api');
  });

  test('two gateways closing one cycle at the same moment: never both, over and over', async () => {
    for (let round = 0; round < 5; round++) {
      const [p, q] = [`p${round}`, `q${round}`];
      await a.applyApps([app(p, [{ path: `/${p}/` }]), app(q, [{ path: `/${q}/` }])], 'api');
      const outcomes = await Promise.allSettled([a.applyApps([app(p, [{ path: `/${p}/` }], 'example/p:1', [q])], 'api'), b.applyApps([app(q, [{ path: `/${q}/` }], 'example/q:1', [p])], 'api')]);
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1, `round ${round}: one stored`);
      const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
      assert.ok(refused.reason instanceof ConflictError, String(refused.reason));
    }
  });

  test('a delete and an apply depending on it at the same moment: never both, over and over', async () => {
    for (let round = 0; round < 10; round++) {
      const dep = `dep${round}`;
      await a.applyApps([app(dep, [{ path: `/${dep}/` }])], 'api');
      const outcomes = await Promise.allSettled([a.deleteApp(dep, { refuseDependents: true }), b.applyApps([app(`user${round}`, [{ path: `/user${round}/` }], 'example/u:1', [dep])], 'api')]);
      const [deleted, applied] = outcomes;
      assert.ok(deleted.status === 'rejected' || applied.status === 'rejected', `round ${round}: one of the two is refused`);
      const rejected = (deleted.status === 'rejected' ? deleted : applied) as PromiseRejectedResult;
      assert.ok(rejected.reason instanceof ConflictError, String(rejected.reason));
      const depStored = (await a.getApp(dep)) !== undefined;
      const userStored = (await a.getApp(`user${round}`)) !== undefined;
      assert.ok(depStored || !userStored, `round ${round}: no app depends on one that is gone`);
    }
  });
});
