// Lifecycle calls of the admin API racing what the app is doing: a stop during a
// cold start acts at once instead of waiting the start out, a scale racing a
// delete leaves nothing behind, and an app deleted and created again under the
// same name while requests are in flight starts from clean counts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually } from '../support/fake-activator.js';
import { FakeGatewayBed } from '../support/fake-gateway.js';
import { httpGet } from '../support/gateway-harness.js';
import type { Activator } from '../../src/activator/activator.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import type { Store } from '../../src/store/store.js';

/** The gateway's activator, where the proxy counts requests in flight (its begin and end of each request). */
const activatorOf = (gateway: Gateway) => (gateway as unknown as { activator: Activator }).activator;
/** The gateway's queue of changes of one app (the last change asked for, a promise): a new one each time a change of it is queued. */
const changeChainOf = (gateway: Gateway, app: string) => (gateway as unknown as { lanes: { tails: Map<string, Promise<unknown>> } }).lanes.tails.get(app);

/** `store` whose deleteApp waits for `gate`: a delete that holds the gateway's change queue as long as a test wants. */
function slowDeletes(store: Store, gate: Promise<void>, called: () => void): Store {
  return new Proxy(store, {
    get(target, key) {
      const value = Reflect.get(target, key) as unknown;
      if (key === 'deleteApp') {
        return async (...args: Parameters<Store['deleteApp']>) => {
          called();
          await gate;
          return target.deleteApp(...args);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

const spec = (name: string, tag: string, extra: Record<string, unknown> = {}) => ({ apiVersion: 'berth/v1', name, image: `fake/${name}:${tag}`, port: 8080, readiness: { path: '/healthz' }, ...extra });

/** `work`, or a failure naming `what` once `ms` have passed: far less than the start timeouts below, far more than a loaded machine needs. */
function within<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)));
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

describe('API lifecycle calls racing the app', () => {
  it('a stop during a cold start calls the start off: answered at once with the app stopped, the waiting request told why, its container stopped', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    // It would take the whole start timeout (60 s) to fail by itself.
    bed.runtime.behave('web', { neverReady: true });
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec('web', '1', { startTimeout: '60s' }))).status, 200);
    const waiting = httpGet(gateway.proxyAddress!.port, '/session/web/');
    const started = bed.api(gateway, 'POST', '/v1/apps/web/start');
    await eventually('the container runs, not ready', () => bed.runtime.running('web').length === 1, 5_000);
    const stopped = await within('POST stop during the start', 10_000, bed.api(gateway, 'POST', '/v1/apps/web/stop'));
    assert.equal(stopped.status, 200, JSON.stringify(stopped.json));
    assert.equal(stopped.json.state, 'stopped');
    assert.equal(stopped.json.reason, 'stopped through the API');
    const request = await within('the waiting request', 10_000, waiting);
    assert.equal(request.status, 502);
    assert.match(request.body, /called off: stopped through the API/);
    const start = await within('the POST start', 10_000, started);
    assert.equal(start.status, 502);
    assert.match(start.json.detail, /called off/);
    assert.equal(bed.runtime.running('web').length, 0, 'the container the start launched is stopped');
    const shown = await bed.api(gateway, 'GET', '/v1/apps/web');
    assert.equal(shown.json.status.state, 'stopped');
    assert.equal(shown.json.status.lastError, undefined, 'a call-off is no failure');
    // The next request starts it again, as after any stop.
    bed.runtime.behave('web', {});
    assert.equal((await httpGet(gateway.proxyAddress!.port, '/session/web/')).status, 200);
  });

  it('a restart during a cold start: the request held for it and the start waiting on it get the restarted app, not 502', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    // Each start takes 1.5 s to get ready: long enough for the restart to land in the middle of the first.
    bed.runtime.behave('web', { readyAfterMs: 1_500 });
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec('web', '1', { startTimeout: '30s' }))).status, 200);
    const waiting = httpGet(gateway.proxyAddress!.port, '/session/web/');
    const started = bed.api(gateway, 'POST', '/v1/apps/web/start');
    await eventually('the container runs, not ready', () => bed.runtime.running('web').length === 1, 5_000);
    const restarted = await within('POST restart during the start', 15_000, bed.api(gateway, 'POST', '/v1/apps/web/restart'));
    assert.equal(restarted.status, 200, JSON.stringify(restarted.json));
    assert.equal(restarted.json.state, 'running');
    const request = await within('the waiting request', 15_000, waiting);
    assert.equal(request.status, 200, `the held request: ${request.body}`);
    const start = await within('the POST start', 15_000, started);
    assert.equal(start.status, 200, JSON.stringify(start.json));
    assert.equal(start.json.state, 'running');
    assert.equal(bed.runtime.running('web').length, 1, 'one instance runs');
    assert.equal((await bed.api(gateway, 'GET', '/v1/apps/web')).json.status.lastError, undefined, 'a restart is no failure');
  });

  it('two restarts at once, and a third while they run: every one answers 200 with the app running', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    bed.runtime.behave('web', { readyAfterMs: 800 });
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec('web', '1', { startTimeout: '30s' }))).status, 200);
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps/web/start')).status, 200);
    const first = [bed.api(gateway, 'POST', '/v1/apps/web/restart'), bed.api(gateway, 'POST', '/v1/apps/web/restart')];
    await eventually('a restart is starting the app again', () => bed.runtime.running('web').length === 1, 5_000);
    const all = await within('three restarts', 20_000, Promise.all([...first, bed.api(gateway, 'POST', '/v1/apps/web/restart')]));
    for (const [i, got] of all.entries()) {
      assert.equal(got.status, 200, `restart ${i + 1}: ${JSON.stringify(got.json)}`);
      assert.equal(got.json.state, 'running', `restart ${i + 1}`);
    }
    assert.equal(bed.runtime.running('web').length, 1);
  });

  it('a stop during a start still calls it off: the start answers 502 saying so (only a restart is waited through)', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    bed.runtime.behave('web', { readyAfterMs: 1_500 });
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec('web', '1', { startTimeout: '30s' }))).status, 200);
    const started = bed.api(gateway, 'POST', '/v1/apps/web/start');
    await eventually('the container runs, not ready', () => bed.runtime.running('web').length === 1, 5_000);
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps/web/stop')).status, 200);
    const start = await within('the POST start', 10_000, started);
    assert.equal(start.status, 502);
    assert.match(start.json.detail, /called off: stopped through the API/);
  });

  it('an app deleted and created again while a request of the old one is in flight: each counts its own requests', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    const activator = activatorOf(gateway);
    const inFlight = async () => (await bed.api(gateway, 'GET', '/v1/apps/web')).json.status.inFlight as number;
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec('web', '1'))).status, 200);
    activator.began('web'); // an old request, still in flight through the delete
    assert.equal(await inFlight(), 1);
    assert.equal((await bed.api(gateway, 'DELETE', '/v1/apps/web')).status, 200);
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec('web', '2'))).status, 200);
    assert.equal(await inFlight(), 0, 'the new app does not inherit the old request');
    activator.began('web'); // a request of the new app
    activator.ended('web'); // the old request ends: not the new app's
    assert.equal(await inFlight(), 1, 'the new app still counts its own request in flight (it would be idle-stopped under it)');
    activator.ended('web');
    assert.equal(await inFlight(), 0);
    activator.ended('web'); // an end too many changes nothing
    assert.equal(await inFlight(), 0);
  });

  it('a scale racing a delete (and the app created again) is refused and leaves the new app as its spec says', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let deleting = false;
    bed.wrapStore = (store) => slowDeletes(store, gate, () => (deleting = true));
    let gateway = await bed.start();
    const scaled = spec('web', '1', { scale: { min: 1, max: 3 } });
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', scaled)).status, 200);
    await eventually('web runs', () => bed.runtime.running('web').length === 1, 5_000);
    const deleted = bed.api(gateway, 'DELETE', '/v1/apps/web');
    await eventually('the delete holds the change queue', () => deleting, 5_000);
    // Both wait behind the delete: the new app first, then the scale that was meant for the old one.
    // Each is seen queued (the change chain moves on) before the next goes: a fixed 200 ms each left a loaded machine
    // to queue the scale only after the release, on the new app (a 200).
    const changes = () => changeChainOf(gateway, 'web');
    let last = changes();
    const created = bed.api(gateway, 'POST', '/v1/apps', spec('web', '2', { scale: { min: 1, max: 3 } }));
    await eventually('the create queued behind the delete', () => changes() !== last, 5_000);
    last = changes();
    const scale = bed.api(gateway, 'POST', '/v1/apps/web/scale', { replicas: 3 });
    await eventually('the scale queued behind the create', () => changes() !== last, 5_000);
    release();
    assert.equal((await deleted).status, 200);
    assert.equal((await created).status, 200);
    const answer = await scale;
    assert.equal(answer.status, 404, JSON.stringify(answer.json));
    assert.match(answer.json.detail, /deleted while/);
    const check = async (when: string) => {
      const shown = await bed.api(gateway, 'GET', '/v1/apps/web');
      assert.equal(shown.json.spec.image, 'fake/web:2', when);
      assert.equal(shown.json.status.replicas, 1, `${when}: the new app has its spec's replicas`);
    };
    await check('now');
    await eventually('one container of the new app', () => bed.runtime.running('web').length === 1, 5_000);
    await bed.stop(gateway);
    gateway = await bed.start();
    await check('after a restart');
  });
});
