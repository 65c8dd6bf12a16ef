// Replicas on the real engine: three instances share the load round-robin
// (exactly evenly) or by least connections (a busy instance is avoided); a
// killed instance leaves the rotation without a failed request and comes back;
// `POST /v1/apps/{name}/scale` changes the number of instances.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiRoutes } from '../../src/api/routes/index.js';
import { appPath, testAppYaml } from '../support/app-spec.js';
import { cleanupByLabel, testDocker, testRun } from '../support/docker-cleanup.js';
import { EngineEvents } from '../support/engine-events.js';
import { GatewayHarness } from '../support/gateway-harness.js';
import { timedGet } from '../support/http-requests.js';
import { hostCounts, loadLoop } from '../support/load-loop.js';
import { sleep, waitFor } from '../support/wait-for.js';

const run = testRun();
const rr = `rb${run.id}-rr`;
const lc = `rb${run.id}-lc`;
const kill = `rb${run.id}-kill`;
const T = { timeout: 30_000 };

describe('replicas: balancing, a killed instance, scaling', () => {
  let h: GatewayHarness;
  let events: EngineEvents;
  const status = (app: string) => h.gateway?.statuses().find((s) => s.name === app);
  const running = async (app: string) =>
    testDocker().listContainers({ filters: { label: [`berth.app=${app}`, run.label], status: ['running'] } });
  const threeReady = (app: string) => waitFor(`${app}: 3 instances ready`, () => status(app)?.readyInstances === 3, { timeoutMs: 15_000 });

  before(async () => {
    events = await EngineEvents.open(run.label);
    h = await GatewayHarness.create(run.labels);
    await h.writeConfig();
    await h.writeApp('rr.yaml', testAppYaml(rr, 'scale: {min: 3, max: 3}\nbalance: round-robin\n'));
    await h.writeApp('lc.yaml', testAppYaml(lc, 'scale: {min: 3, max: 3}\n'));
    await h.writeApp('kill.yaml', testAppYaml(kill, 'scale: {min: 3, max: 3}\nbalance: round-robin\n'));
    await h.start();
    await Promise.all([threeReady(rr), threeReady(lc), threeReady(kill)]);
  });

  after(async () => {
    events?.close();
    await h?.dispose();
    await cleanupByLabel(run.label);
  });

  test('round-robin: 30 requests over three replicas, exactly 10 each', T, async () => {
    assert.equal((await running(rr)).length, 3, 'three containers run');
    const counts = await hostCounts(h.port, appPath(rr, '/echo'), 30);
    assert.equal(counts.size, 3, `three instances served: ${JSON.stringify([...counts])}`);
    assert.deepEqual([...counts.values()], [10, 10, 10], `evenly spread: ${JSON.stringify([...counts])}`);
    const ids = new Set((await running(rr)).map((c) => c.Id.slice(0, 12)));
    assert.deepEqual(new Set(counts.keys()), ids, 'the hostnames are the three containers');
  });

  test('least-connections: an instance busy with a slow request gets no new ones until it is done', T, async () => {
    // Warm every instance's connection first, so the only difference between them is the held request.
    assert.equal((await hostCounts(h.port, appPath(lc, '/echo'), 6)).size, 3, 'idle instances take turns');
    const slow = timedGet(h.port, appPath(lc, '/slow?ms=3000'), { timeoutMs: 10_000 });
    await waitFor('the slow request in flight', () => status(lc)?.inFlight === 1, { timeoutMs: 3_000, intervalMs: 5 });
    const during = await hostCounts(h.port, appPath(lc, '/echo'), 12);
    assert.equal(status(lc)?.inFlight, 1, 'the slow request was still in flight throughout');
    assert.equal(during.size, 2, `only the two idle instances served while one was busy: ${JSON.stringify([...during])}`);
    assert.deepEqual([...during.values()], [6, 6], 'and they took turns');
    assert.equal((await slow).status, 200);
    const afterwards = await hostCounts(h.port, appPath(lc, '/echo'), 6);
    assert.equal(afterwards.size, 3, `once it was done, all three served again: ${JSON.stringify([...afterwards])}`);
    const busy = [...afterwards.keys()].filter((host) => !during.has(host));
    assert.equal(busy.length, 1, 'the one left out was the busy one');
  });

  test('a killed instance leaves the rotation without a failed request, and comes back', T, async () => {
    const before = await running(kill);
    assert.equal(before.length, 3);
    const victim = before[0]!;
    const startsBefore = events.count(kill, 'start');
    const load = loadLoop(h.port, appPath(kill, '/echo'), { clients: 3, maxMs: 15_000 });
    await sleep(500);
    const killedAt = performance.now();
    await testDocker().getContainer(victim.Id).kill();
    await waitFor('the victim out of rotation', () => (status(kill)?.readyInstances ?? 0) < 3, { timeoutMs: 5_000, intervalMs: 5 });
    await sleep(1_500);
    // Back: three ready instances, the replacement started by berth (not by a Docker restart policy).
    await waitFor('three instances ready again', () => status(kill)?.readyInstances === 3, { timeoutMs: 10_000 });
    const backAfter = performance.now() - killedAt;
    await sleep(500);
    const seen = await load.stop();
    assert.deepEqual(seen.failures, [], `no failed request out of ${seen.requests}`);
    assert.ok(seen.requests > 50, `the load kept going (${seen.requests} requests)`);
    assert.ok(backAfter < 10_000, `back within ${Math.round(backAfter)} ms`);
    const now = await running(kill);
    assert.equal(now.length, 3, 'three containers run again');
    assert.ok(events.count(kill, 'start') > startsBefore, 'berth started a container in place of the killed one');
    const counts = await hostCounts(h.port, appPath(kill, '/echo'), 9);
    assert.deepEqual([...counts.values()], [3, 3, 3], `three distinct instances serve again: ${JSON.stringify([...counts])}`);
    assert.deepEqual(new Set(counts.keys()), new Set(now.map((c) => c.Id.slice(0, 12))));
  });

  test('POST /v1/apps/{name}/scale changes the number of instances within scale.min..max', T, async (t) => {
    if (!apiRoutes.some((r) => r.method === 'POST' && r.path === '/v1/apps/{name}/scale')) {
      t.skip('POST /v1/apps/{name}/scale does not exist yet');
      return;
    }
    const scale = (replicas: number) => h.api('POST', `/v1/apps/${rr}/scale`, { body: JSON.stringify({ replicas }) });
    // rr is declared with min 3, max 3 in the config: only 3 is allowed.
    const refused = await scale(5);
    assert.ok(refused.status === 422 || refused.status === 409, `5 > scale.max is refused: ${refused.status} ${refused.text}`);
    const same = await scale(3);
    assert.equal(same.status, 200, same.text);
    assert.equal((await running(rr)).length, 3, 'nothing changed');

    // An API app whose bounds leave room.
    const app = `rb${run.id}-scale`;
    const applied = await h.api('POST', '/v1/apps', { body: testAppYaml(app, 'scale: {min: 1, max: 3}\nbalance: round-robin\n'), contentType: 'application/yaml' });
    assert.equal(applied.status, 200, applied.text);
    await waitFor('one instance', () => status(app)?.readyInstances === 1, { timeoutMs: 10_000 });
    const up = await h.api('POST', `/v1/apps/${app}/scale`, { body: JSON.stringify({ replicas: 3 }) });
    assert.equal(up.status, 200, up.text);
    await threeReady(app);
    assert.equal((await running(app)).length, 3);
    assert.equal((await hostCounts(h.port, appPath(app, '/echo'), 6)).size, 3);

    const down = await h.api('POST', `/v1/apps/${app}/scale`, { body: JSON.stringify({ replicas: 2 }) });
    assert.equal(down.status, 200, down.text);
    await waitFor('two containers left', async () => (await running(app)).length === 2, { timeoutMs: 10_000 });
    assert.equal(status(app)?.readyInstances, 2);
    assert.deepEqual([...(await hostCounts(h.port, appPath(app, '/echo'), 6)).values()], [3, 3]);
    const tooMany = await h.api('POST', `/v1/apps/${app}/scale`, { body: JSON.stringify({ replicas: 4 }) });
    assert.ok(tooMany.status >= 400 && tooMany.status < 500, `4 > scale.max is refused: ${tooMany.status}`);
  });
});
