// "A refused spec changes nothing": an apply or delete the API answers with an
// error must leave the desired state as it was, in the running gateway (what the
// API shows, the routes) and in the store (what the next gateway starts from).
// Whole gateways on a real SQLite file and the fake engine.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { httpGet } from '../support/gateway-harness.js';
import { FakeGatewayBed } from '../support/fake-gateway.js';

const spec = (name: string, tag: string) => ({ apiVersion: 'berth/v1', name, image: `fake/${name}:${tag}`, port: 8080, readiness: { path: '/healthz' } });

/** What the API shows of an app: its revision and image, or 404. */
async function shown(bed: FakeGatewayBed, gateway: Parameters<FakeGatewayBed['api']>[0], name: string): Promise<string> {
  const r = await bed.api(gateway, 'GET', `/v1/apps/${name}`);
  return r.status === 200 ? `revision ${r.json.revision} ${r.json.spec.image}` : String(r.status);
}

describe('a change refused for want of the engine changes nothing', () => {
  it('an engine down at the call: apply (update, create) and delete answer 503, the apps stay as they were, also after a restart', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    let gateway = await bed.start();
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec('web', '1'))).status, 200);
    bed.runtime.engineDown = true;
    for (const [method, path, body] of [['POST', '/v1/apps', spec('web', '2')], ['POST', '/v1/apps', spec('new', '1')], ['DELETE', '/v1/apps/web', undefined]] as const) {
      const r = await bed.api(gateway, method, path, body);
      assert.equal(r.status, 503, `${method} ${path}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.code, 'engine_unavailable');
    }
    assert.equal(await shown(bed, gateway, 'web'), 'revision 1 fake/web:1');
    assert.equal(await shown(bed, gateway, 'new'), '404');
    bed.runtime.engineDown = false;
    // Still routed: a request wakes revision 1.
    assert.equal((await httpGet(gateway.proxyAddress!.port, '/session/web/')).status, 200);
    assert.deepEqual(bed.runtime.running('web').map((i) => i.specHash).length, 1);
    await bed.stop(gateway);
    gateway = await bed.start();
    assert.equal(await shown(bed, gateway, 'web'), 'revision 1 fake/web:1');
    assert.equal(await shown(bed, gateway, 'new'), '404');
    assert.deepEqual([...bed.runtime.containers.values()].map((c) => c.image), ['fake/web:1']);
  });

  it('an engine lost after the check, before the rollout: the stored update, the created app and the deleted one are put back', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    let gateway = await bed.start();
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec('web', '1'))).status, 200);
    // The engine answers the check, then goes away: the change is stored by then.
    const ping = bed.runtime.ping.bind(bed.runtime);
    bed.runtime.ping = async () => {
      await ping();
      bed.runtime.engineDown = true;
    };
    for (const body of [spec('web', '2'), spec('new', '1')]) {
      const r = await bed.api(gateway, 'POST', '/v1/apps', body);
      assert.equal(r.status, 503, JSON.stringify(r.json));
      bed.runtime.engineDown = false;
    }
    // A delete too: its tombstone is taken back.
    const deleted = await bed.api(gateway, 'DELETE', '/v1/apps/web');
    assert.equal(deleted.status, 503, JSON.stringify(deleted.json));
    bed.runtime.engineDown = false;
    bed.runtime.ping = ping;
    assert.equal((await httpGet(gateway.proxyAddress!.port, '/session/web/')).status, 200, 'still routed and served');
    assert.equal(await shown(bed, gateway, 'web'), 'revision 1 fake/web:1');
    assert.equal(await shown(bed, gateway, 'new'), '404');
    assert.equal((await httpGet(gateway.proxyAddress!.port, '/session/new/')).status, 404, 'the created app is not routed');
    await bed.stop(gateway);
    gateway = await bed.start();
    assert.equal(await shown(bed, gateway, 'web'), 'revision 1 fake/web:1');
    assert.equal(await shown(bed, gateway, 'new'), '404');
    // The next apply of the same update is a change again, and goes through.
    const r = await bed.api(gateway, 'POST', '/v1/apps', spec('web', '2'));
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.results[0].revision, 2);
  });
});
