// The periodic resync on the real engine: with the gateway's event stream made
// deaf (the events an engine restart loses), containers killed, started and
// removed behind berth's back are still noticed, and the app's state follows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appPath, testAppYaml } from '../support/app-spec.js';
import { inspectAppContainer } from '../support/app-container.js';
import { cleanupByLabel, testDocker, testRun } from '../support/docker-cleanup.js';
import { EngineProxy } from '../support/engine-proxy.js';
import { GatewayHarness } from '../support/gateway-harness.js';
import { timedGet } from '../support/http-requests.js';
import { waitFor } from '../support/wait-for.js';

const run = testRun();
const T = { timeout: 60_000 };
/** Never idle within the test: only the resync can tell it stopped. */
const kept = `rs${run.id}-kept`;
const idle = `rs${run.id}-idle`;

describe('resync with the engine while its events are lost', () => {
  let dir: string;
  let engine: EngineProxy;
  let h: GatewayHarness;
  const status = (app: string) => h.gateway?.statuses().find((s) => s.name === app);
  const containerId = async (app: string) => {
    const info = await inspectAppContainer(app, run.label);
    assert.ok(info, `${app} has a container`);
    return info.Id;
  };
  /** Waits out the resync (every 1 s) and the engine's answers on a busy machine. */
  const untilState = (app: string, state: string) => waitFor(`${app} to be ${state}`, () => status(app)?.state === state, { timeoutMs: 10_000, intervalMs: 50 });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-rs-'));
    engine = new EngineProxy(join(dir, 'engine.sock'));
    await engine.listen();
    h = await GatewayHarness.create(run.labels);
    await h.writeConfig(`docker: unix://${engine.path}\nresync: 1s\n`);
    await h.writeApp('kept.yaml', testAppYaml(kept, 'idleTimeout: 10m\n'));
    await h.writeApp('idle.yaml', testAppYaml(idle, 'idleTimeout: 3s\n'));
    await h.start();
  });

  after(async () => {
    await h?.dispose();
    await engine?.close();
    await cleanupByLabel(run.label);
    await rm(dir, { recursive: true, force: true });
  });

  test('a container killed behind berth’s back, its event lost, is noticed: the app shows stopped', T, async () => {
    assert.equal((await timedGet(h.port, appPath(kept, '/ping'), { timeoutMs: 30_000 })).status, 200);
    assert.equal(status(kept)?.state, 'running');
    engine.muteEvents = true;
    await testDocker().getContainer(await containerId(kept)).kill();
    await untilState(kept, 'stopped');
    assert.ok(engine.eventChunksDropped > 0, 'the engine sent the kill’s events and berth never got them');
    assert.match(status(kept)?.lastError ?? '', /exited with code 137/);
  });

  test('a container started behind berth’s back, its event lost, is adopted, then stopped when idle', T, async () => {
    engine.muteEvents = true;
    assert.equal(status(idle)?.state, 'stopped');
    await testDocker().getContainer(await containerId(idle)).start();
    await untilState(idle, 'running');
    const reply = await timedGet(h.port, appPath(idle, '/ping'), { timeoutMs: 10_000 });
    assert.equal(reply.status, 200, 'the adopted container serves');
    await waitFor('the idle stop', () => status(idle)?.state === 'stopped', { timeoutMs: 15_000, intervalMs: 100 });
    assert.equal(status(idle)?.reason, 'idle');
    assert.equal((await inspectAppContainer(idle, run.label))?.State.Status, 'exited', 'berth stopped it');
  });

  test('a container removed behind berth’s back, its event lost, is forgotten: the next request makes a new one', T, async () => {
    engine.muteEvents = true;
    assert.equal((await timedGet(h.port, appPath(kept, '/ping'), { timeoutMs: 30_000 })).status, 200);
    const gone = await containerId(kept);
    await testDocker().getContainer(gone).remove({ force: true });
    await untilState(kept, 'stopped');
    assert.equal(status(kept)?.reason, 'its container is gone', 'not an idle stop');
    const reply = await timedGet(h.port, appPath(kept, '/ping'), { timeoutMs: 30_000 });
    assert.equal(reply.status, 200);
    assert.notEqual(await containerId(kept), gone);
  });
});
