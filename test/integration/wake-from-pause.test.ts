// Waking an app berth paused, on the real engine: the wake is the engine's
// unpause and nothing else (no inspect, no readiness probe), one for many
// requests; and a paused container changed behind berth's back, its events
// lost, still comes back: removed (the unpause's 404) as a new container,
// unpaused and stopped (the unpause's 409) as the same container started again.
// The engine is reached through a relay that logs every Engine API call.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appPath, testAppYaml } from '../support/app-spec.js';
import { inspectAppContainer } from '../support/app-container.js';
import { cleanupByLabel, testDocker, testRun } from '../support/docker-cleanup.js';
import { EngineEvents } from '../support/engine-events.js';
import { EngineProxy } from '../support/engine-proxy.js';
import { GatewayHarness } from '../support/gateway-harness.js';
import { concurrentGets, timedGet } from '../support/http-requests.js';
import { waitFor } from '../support/wait-for.js';

const run = testRun();
const T = { timeout: 30_000 };
const woken = `wk${run.id}-woken`;
const removed = `wk${run.id}-removed`;
const stopped = `wk${run.id}-stopped`;
/** Paused 1 s after its last request; the app logs every request it gets, readiness probes included. */
const PAUSING = 'idleTimeout: 1s\nidleAction: pause\nenv: {LOG_REQUESTS: "1"}\n';

describe('wake from pause', () => {
  let dir: string;
  let engine: EngineProxy;
  let events: EngineEvents;
  let h: GatewayHarness;
  const status = (app: string) => h.gateway?.statuses().find((s) => s.name === app);
  const container = async (app: string) => {
    const info = await inspectAppContainer(app, run.label);
    assert.ok(info, `${app} has a container`);
    return info;
  };
  /** Serves the app once, then waits until berth paused it for idleness; its container's id. */
  const servedThenPaused = async (app: string): Promise<string> => {
    assert.equal((await timedGet(h.port, appPath(app, '/ping'), { timeoutMs: 20_000 })).status, 200);
    await waitFor(`${app} paused`, () => status(app)?.state === 'paused', { timeoutMs: 10_000, intervalMs: 10 });
    const info = await container(app);
    assert.equal(info.State.Status, 'paused');
    return info.Id;
  };
  /** The Engine API calls made about container `id` since call number `from`. */
  const callsAbout = (id: string, from: number) => engine.requests.slice(from).filter((r) => r.includes(id));
  /** The app's own request log (stdout), read from the engine. */
  const appLog = async (id: string) => String(await testDocker().getContainer(id).logs({ stdout: true, stderr: true, follow: false }));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-wk-'));
    engine = new EngineProxy(join(dir, 'engine.sock'));
    await engine.listen();
    events = await EngineEvents.open(run.label);
    h = await GatewayHarness.create(run.labels);
    // No resync within the test: only the wake itself may find out what changed behind berth's back.
    await h.writeConfig(`docker: unix://${engine.path}\nresync: 1h\n`);
    await h.writeApp('woken.yaml', testAppYaml(woken, PAUSING));
    await h.writeApp('removed.yaml', testAppYaml(removed, PAUSING));
    await h.writeApp('stopped.yaml', testAppYaml(stopped, PAUSING));
    await h.start();
  });

  after(async () => {
    events?.close();
    await h?.dispose();
    await engine?.close();
    await cleanupByLabel(run.label);
    await rm(dir, { recursive: true, force: true });
  });

  test('20 requests to a paused app: one unpause, no inspect, no readiness probe, all served', T, async () => {
    const id = await servedThenPaused(woken);
    const probesBefore = (await appLog(id)).split('GET /healthz').length;
    const from = engine.requests.length;
    const replies = await concurrentGets(h.port, appPath(woken, '/echo?woken=1'), 20, { timeoutMs: 20_000 });
    assert.deepEqual(
      replies.map((r) => r.status),
      replies.map(() => 200),
    );
    assert.deepEqual(callsAbout(id, from), [`POST /containers/${id}/unpause`], 'the unpause is the only engine call about the container');
    assert.equal(status(woken)?.state, 'running');
    // The app logs requests in order: once this one is in its log, a probe sent during the wake would be too.
    assert.equal((await timedGet(h.port, appPath(woken, '/echo?mark=after-wake'))).status, 200);
    await waitFor('the app to log the marker request', async () => (await appLog(id)).includes('mark=after-wake'), { timeoutMs: 5_000, intervalMs: 20 });
    assert.equal((await appLog(id)).split('GET /healthz').length, probesBefore, 'no readiness probe reached the app');
    assert.equal(await events.settledCount(woken, 'unpause', 1), 1);
    assert.equal(events.count(woken, 'start'), 1, 'woken by unpause, not a new start');
  });

  test('a paused container removed behind berth’s back (event lost) comes back as a new one on the next request', T, async () => {
    const id = await servedThenPaused(removed);
    engine.muteEvents = true;
    await testDocker().getContainer(id).remove({ force: true });
    const from = engine.requests.length;
    const reply = await timedGet(h.port, appPath(removed, '/ping'), { timeoutMs: 20_000 });
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'pong');
    assert.equal(callsAbout(id, from)[0], `POST /containers/${id}/unpause`, 'the thaw was tried first');
    assert.ok(engine.requests.slice(from).includes('POST /containers/create'), 'then a new container was made');
    const now = await container(removed);
    assert.notEqual(now.Id, id);
    assert.equal(now.State.Status, 'running');
    const shown = status(removed);
    assert.equal(shown?.state, 'running');
    assert.equal(shown?.lastError, undefined);
    assert.equal(shown?.instance?.id, now.Id, 'the status shows the new container');
  });

  test('a paused container unpaused and stopped behind berth’s back (events lost) is started again on the next request', T, async () => {
    const id = await servedThenPaused(stopped);
    engine.muteEvents = true;
    const c = testDocker().getContainer(id);
    await c.unpause();
    await c.stop({ t: 1 });
    const from = engine.requests.length;
    const reply = await timedGet(h.port, appPath(stopped, '/ping'), { timeoutMs: 20_000 });
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'pong');
    const calls = callsAbout(id, from);
    assert.equal(calls[0], `POST /containers/${id}/unpause`, 'the thaw was tried first');
    assert.ok(calls.includes(`POST /containers/${id}/start`), `then it was started (${calls.join(', ')})`);
    const now = await container(stopped);
    assert.equal(now.Id, id, 'the same container');
    assert.equal(now.State.Status, 'running');
    assert.equal(status(stopped)?.state, 'running');
    assert.equal(status(stopped)?.lastError, undefined);
  });
});
