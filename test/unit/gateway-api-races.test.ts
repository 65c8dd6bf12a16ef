// Changes racing through the API: each must be carried out whole, one after the
// other, and what the API shows afterwards must be what the store and the engine hold.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { containerSpecHash } from '../../src/spec/hash.js';
import { eventually } from '../support/fake-activator.js';
import { FakeGatewayBed } from '../support/fake-gateway.js';
import { httpGet } from '../support/gateway-harness.js';

const spec = (name: string, tag: string, extra: Record<string, unknown> = {}) => ({ apiVersion: 'berth/v1', name, image: `fake/${name}:${tag}`, port: 8080, readiness: { path: '/healthz' }, ...extra });

describe('API changes racing', () => {
  it('the same app applied with different specs at once: revisions 2 and 3, the last one stands, in the store and the engine', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    let gateway = await bed.start();
    const always = { scale: { min: 1, max: 1 } };
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec('web', '1', always))).status, 200);
    const answers = await Promise.all(['2', '3', '4'].map((tag) => bed.api(gateway, 'POST', '/v1/apps', spec('web', tag, always))));
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200]);
    const byRevision = answers.map((a, i) => [a.json.results[0].revision as number, `fake/web:${i + 2}`] as const).sort((a, b) => a[0] - b[0]);
    assert.deepEqual(byRevision.map(([r]) => r), [2, 3, 4]);
    const last = byRevision.at(-1)![1];
    const shown = await bed.api(gateway, 'GET', '/v1/apps/web');
    assert.equal(shown.json.revision, 4);
    assert.equal(shown.json.spec.image, last);
    await eventually('the last revision runs alone', () => bed.runtime.running('web').length === 1 && [...bed.runtime.containers.values()].every((c) => c.image === last), 5_000);
    await bed.stop(gateway);
    gateway = await bed.start();
    assert.equal((await bed.api(gateway, 'GET', '/v1/apps/web')).json.spec.image, last);
  });

  it('apply racing delete: either order, and the API, the store and the engine agree', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    let gateway = await bed.start();
    const always = { scale: { min: 1, max: 1 } };
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec('web', '1', always))).status, 200);
    await eventually('web runs', () => bed.runtime.running('web').length === 1);
    const [applied, deleted] = await Promise.all([bed.api(gateway, 'POST', '/v1/apps', spec('web', '2', always)), bed.api(gateway, 'DELETE', '/v1/apps/web')]);
    assert.equal(applied.status, 200, JSON.stringify(applied.json));
    assert.equal(deleted.status, 200, JSON.stringify(deleted.json));
    // Whichever the gateway took first: an update then the delete (no app, no container), or the delete then a new app.
    const deleteFirst = applied.json.results[0].action === 'created';
    const check = async () => {
      const shown = await bed.api(gateway, 'GET', '/v1/apps/web');
      if (deleteFirst) {
        assert.equal(shown.json.revision, 1);
        assert.equal(shown.json.spec.image, 'fake/web:2');
        await eventually('only the new app runs', () => bed.runtime.running('web').length === 1 && [...bed.runtime.containers.values()].every((c) => c.image === 'fake/web:2'), 5_000);
      } else {
        assert.equal(applied.json.results[0].revision, 2);
        assert.equal(shown.status, 404);
        await eventually('no container of web is left', () => [...bed.runtime.containers.values()].every((c) => c.instance.app !== 'web'), 5_000);
      }
    };
    await check();
    await bed.stop(gateway);
    gateway = await bed.start();
    await check();
  });

  it('two apps claiming one host at once: one is created, the other refused naming it, and nothing of it is kept', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    const route = { routes: [{ host: 'shop.example.com' }] };
    const [a, b] = await Promise.all([bed.api(gateway, 'POST', '/v1/apps', spec('alice', '1', route)), bed.api(gateway, 'POST', '/v1/apps', spec('bob', '1', route))]);
    assert.deepEqual([a.status, b.status].sort(), [200, 422]);
    const [won, lost] = a.status === 200 ? ['alice', 'bob'] : ['bob', 'alice'];
    const refusal = (a.status === 422 ? a : b).json;
    assert.match(refusal.detail, new RegExp(`app "${lost}" has the same route \\(host shop\\.example\\.com, path /\\) as app "${won}"`, 'i'));
    assert.equal((await bed.api(gateway, 'GET', `/v1/apps/${lost}`)).status, 404);
    assert.equal((await bed.api(gateway, 'GET', `/v1/apps/${won}`)).json.revision, 1);
    // A rename: the same spec under another name is refused too, the first app untouched.
    const renamed = await bed.api(gateway, 'POST', '/v1/apps', spec(lost, '2', route));
    assert.equal(renamed.status, 422);
    assert.deepEqual([...bed.runtime.containers.values()].map((c) => c.instance.app).filter((n) => n === lost), []);
    const hash = containerSpecHash((await bed.api(gateway, 'GET', `/v1/apps/${won}`)).json.spec);
    assert.ok([...bed.runtime.containers.values()].every((c) => c.instance.specHash === hash));
  });

  it('delete racing a cold start: the waiting request gets an answer, and no container of the app is left, also once the start would have finished', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    bed.runtime.behave('web', { startDelayMs: 300, readyAfterMs: 200 });
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec('web', '1', { scale: { min: 0, max: 2, replicas: 2 } }))).status, 200);
    const request = httpGet(gateway.proxyAddress!.port, '/session/web/');
    await eventually('the start began', () => bed.runtime.calls.start > 0);
    const deleted = await bed.api(gateway, 'DELETE', '/v1/apps/web');
    assert.equal(deleted.status, 200, JSON.stringify(deleted.json));
    assert.ok([502, 503, 404].includes((await request).status));
    await eventually('no container of web', () => bed.runtime.containers.size === 0, 5_000);
    await new Promise((resolve) => setTimeout(resolve, 700));
    assert.equal(bed.runtime.containers.size, 0, 'a container the start made after the delete was left');
  });
});
