// Lifecycle calls of the admin API racing what the app is doing: a stop during a
// cold start acts at once instead of waiting the start out, a scale racing a
// delete leaves nothing behind, and an app deleted and created again under the
// same name while requests are in flight starts from clean counts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually } from '../support/fake-activator.js';
import { FakeGatewayBed } from '../support/fake-gateway.js';
import { httpGet } from '../support/gateway-harness.js';

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
});
