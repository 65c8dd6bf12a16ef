import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Activator } from '../../src/activator/activator.js';
import type { ApiContext } from '../../src/api/route-def.js';
import { appRoutes, DEFAULT_PAGE, MAX_PAGE } from '../../src/api/routes/apps.js';
import { BadRequestError, httpStatusOf } from '../../src/errors.js';
import { AppService, decodeAppCursor, encodeAppCursor, type AppServiceDeps } from '../../src/gateway/app-service.js';
import type { Instance, Runtime } from '../../src/runtime/runtime.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { appSpec } from '../support/spec-fixture.js';

async function setUp(n: number) {
  const store = new SqliteStore({ path: ':memory:' });
  await store.open();
  // Stored out of order: pages are by name whatever the order of creation.
  const names = Array.from({ length: n }, (_, i) => `app-${String((i * 37) % n).padStart(4, '0')}`);
  await store.applyApps(names.map((name) => appSpec(name)), 'api');
  await store.deleteApp('app-0003');
  const instances = [{ id: 'c1', app: 'app-0005', name: 'berth-app-0005-0' }] as Instance[];
  const service = new AppService({
    store,
    runtime: { list: () => Promise.resolve(instances) } as unknown as Runtime,
    activator: { status: () => undefined } as unknown as Activator,
  } as unknown as AppServiceDeps);
  return { store, service };
}

describe('GET /v1/apps pages', () => {
  it('walks every app once, by name, with an opaque cursor', async () => {
    const { store, service } = await setUp(250);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await service.page({ limit: 100, cursor });
      seen.push(...page.items.map((d) => d.app.name));
      assert.ok(page.items.length <= 100);
      cursor = page.next;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    const expected = Array.from({ length: 250 }, (_, i) => `app-${String(i).padStart(4, '0')}`).filter((n) => n !== 'app-0003');
    assert.deepEqual(seen, expected, 'by name, the deleted one left out, none twice');
    const first = await service.page({ limit: 10 });
    assert.deepEqual(first.items.find((d) => d.app.name === 'app-0005')?.instances.map((i) => i.id), ['c1'], "each app with its own containers");
    assert.equal(first.items[0]!.instances.length, 0);
    const exact = await service.page({ limit: 249 });
    assert.equal(exact.items.length, 249);
    assert.equal(exact.next, undefined, 'no next page after the last app');
    await store.close();
  });

  it('a cursor hides the name and round-trips; anything else is a 400 naming the parameter', () => {
    const cursor = encodeAppCursor('app-0099');
    assert.doesNotMatch(cursor, /app-0099/);
    assert.equal(decodeAppCursor(cursor), 'app-0099');
    const edited = [
      `${cursor}A`, // a character too many: Node's decoder skipped it, or read it as a stray byte of the name
      cursor.slice(0, -1), // cut short: it named app-009, a page from somewhere else
      cursor.slice(0, -4),
      Buffer.from('app:app-0099\0;').toString('base64url'),
      Buffer.from('app:../x;').toString('base64url'),
      Buffer.from('app:App-1;').toString('base64url'),
    ];
    for (const bad of ['nope', '!!', Buffer.from('app:').toString('base64url'), Buffer.from('x:app-1').toString('base64url'), ...edited]) {
      assert.throws(() => decodeAppCursor(bad), (err: unknown) => err instanceof BadRequestError && /query parameter cursor/.test(err.message), bad);
    }
  });

  it('limit defaults to 100, allows 1 to 1000, and refuses the rest with 400', async () => {
    const route = appRoutes.find((r) => r.method === 'GET' && r.path === '/v1/apps')!;
    const calls: Array<{ limit: number; cursor?: string }> = [];
    const gateway = { apps: { page: (o: { limit: number; cursor?: string }) => (calls.push(o), Promise.resolve({ items: [], next: 'abc' })) } };
    const call = (query: string) => route.handle({ query: new URLSearchParams(query), gateway } as unknown as ApiContext);
    assert.deepEqual(await call(''), { body: { apps: [], next: 'abc' } });
    await call('limit=1');
    await call(`limit=${MAX_PAGE}&cursor=xyz`);
    assert.deepEqual(calls, [{ limit: DEFAULT_PAGE, cursor: undefined }, { limit: 1, cursor: undefined }, { limit: MAX_PAGE, cursor: 'xyz' }]);
    // Number() reads these as counts; none is one a client writes.
    const numberish = ['limit=1e2', 'limit=0x10', 'limit=%205', 'limit=5.0', 'limit=%2B5', 'limit=0b11', 'limit=5%20'];
    for (const bad of ['limit=0', `limit=${MAX_PAGE + 1}`, 'limit=ten', 'limit=1.5', ...numberish]) {
      await assert.rejects(call(bad), (err: unknown) => err instanceof BadRequestError && httpStatusOf(err) === 400 && /query parameter limit: expected an integer from 1 to 1000/.test(err.message), bad);
    }
  });
});
