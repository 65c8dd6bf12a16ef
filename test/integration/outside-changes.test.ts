// What berth shows and does when an operator changes an app's container behind its
// back, on the real engine, with the periodic resync off (1 h): the engine's events
// alone must tell it. A container taken off berth's apps network loses its published
// port while it runs on; a `docker restart` during a cold start stops the container
// (143) and starts it again at a new port. A container made outside berth with its
// labels and powers it never gives is neither started nor adopted running.
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appPath, testAppYaml } from '../support/app-spec.js';
import { inspectAppContainer } from '../support/app-container.js';
import { cleanupByLabel, testDocker, testRun } from '../support/docker-cleanup.js';
import { GatewayHarness } from '../support/gateway-harness.js';
import { timedGet } from '../support/http-requests.js';
import { waitFor } from '../support/wait-for.js';

const run = testRun();
const T = { timeout: 30_000 };
const cut = `oc${run.id}-cut`;
const restarted = `oc${run.id}-restarted`;
const forged = `oc${run.id}-forged`;

describe('outside changes', () => {
  let h: GatewayHarness;
  const status = (app: string) => h.gateway?.statuses().find((s) => s.name === app);
  const publishedPort = async (app: string) => {
    const info = await inspectAppContainer(app, run.label);
    return info?.NetworkSettings.Ports?.['8080/tcp']?.[0]?.HostPort;
  };

  /**
   * Stops the forged app and swaps its container for one made outside berth: its name, labels (the
   * spec hash too), image, command and port, with `powers` added to its HostConfig.
   */
  const forgeContainer = async (powers: Docker.HostConfig) => {
    assert.equal((await h.api('POST', `/v1/apps/${forged}/stop`)).status < 300, true);
    const made = await waitFor('its container stopped', async () => {
      const i = await inspectAppContainer(forged, run.label);
      return i && !i.State.Running && status(forged)?.state === 'stopped' ? i : undefined;
    }, { timeoutMs: 15_000 });
    const docker = testDocker();
    await docker.getContainer(made.Id).remove({ force: true });
    const { Name, Config } = made;
    return docker.createContainer({
      name: Name.replace(/^\//, ''),
      Image: Config.Image,
      Cmd: Config.Cmd,
      Env: Config.Env,
      Labels: Config.Labels,
      ExposedPorts: Config.ExposedPorts,
      HostConfig: { ...made.HostConfig, ...powers },
    });
  };

  before(async () => {
    h = await GatewayHarness.create(run.labels);
    await h.writeConfig('resync: 1h\n');
    await h.writeApp('cut.yaml', testAppYaml(cut, 'idleTimeout: 5m\n'));
    // Ready 1.5 s after it starts: long enough to restart it mid-start.
    await h.writeApp('restarted.yaml', testAppYaml(restarted, 'idleTimeout: 5m\nenv: {READY_DELAY_MS: "1500"}\n'));
    await h.writeApp('forged.yaml', testAppYaml(forged, 'idleTimeout: 5m\n'));
    await h.start();
  });

  after(async () => {
    await h?.dispose();
    await cleanupByLabel(run.label);
  });

  test('docker network disconnect of a serving app: noticed without a request, restarted on the network, serving again', T, async () => {
    assert.equal((await timedGet(h.port, appPath(cut), { timeoutMs: 20_000 })).status, 200);
    const info = await inspectAppContainer(cut, run.label);
    assert.ok(info);
    const before = await publishedPort(cut);
    assert.ok(before);
    await testDocker().getNetwork(h.appsNetworkFor()).disconnect({ Container: info.Id, Force: true });
    // No request is sent meanwhile: the engine's network event alone must lead berth there.
    await waitFor('the container published again at a new port', async () => {
      const now = await publishedPort(cut);
      return now !== undefined && now !== before && now;
    }, { timeoutMs: 15_000, intervalMs: 50 });
    await waitFor(`${cut} running with a ready instance`, () => status(cut)?.state === 'running' && status(cut)?.readyInstances === 1, { timeoutMs: 15_000 });
    const reply = await timedGet(h.port, appPath(cut), { timeoutMs: 10_000 });
    assert.equal(reply.status, 200, reply.body);
    const again = await inspectAppContainer(cut, run.label);
    assert.equal(again?.Id, info.Id, 'the same container, restarted in place');
    assert.ok(Object.keys(again?.NetworkSettings.Networks ?? {}).includes(h.appsNetworkFor()), 'back on the apps network');
    await waitFor('nothing left in flight', () => status(cut)?.inFlight === 0 && status(cut)?.waiting === 0, { timeoutMs: 5_000 });
  });

  test('docker restart of the container during a cold start: the waiting request is served, and the app shows no failure', T, async () => {
    const first = timedGet(h.port, appPath(restarted), { timeoutMs: 25_000 });
    const info = await waitFor('its container running (not ready yet)', async () => {
      const i = await inspectAppContainer(restarted, run.label);
      return i?.State.Running ? i : undefined;
    }, { timeoutMs: 15_000, intervalMs: 20 });
    assert.equal(status(restarted)?.state, 'starting', 'restarted while berth starts it');
    await testDocker().getContainer(info.Id).restart({ t: 2 });
    const reply = await first;
    assert.equal(reply.status, 200, reply.body);
    assert.equal(status(restarted)?.state, 'running');
    assert.equal(status(restarted)?.lastError, undefined, 'no failure shown');
    await waitFor('nothing left in flight', () => status(restarted)?.inFlight === 0 && status(restarted)?.waiting === 0, { timeoutMs: 5_000 });
    const containers = await testDocker().listContainers({ all: true, filters: { label: [run.label, `berth.app=${restarted}`] } });
    assert.equal(containers.length, 1, 'one container, no second one made');
  });

  test('a stopped container replaced outside berth by one with its labels, --privileged and a bind of /: never started, made anew', T, async () => {
    assert.equal((await timedGet(h.port, appPath(forged), { timeoutMs: 20_000 })).status, 200);
    const docker = testDocker();
    const fake = await forgeContainer({ Privileged: true, Binds: ['/:/host:ro'] });
    const since = Math.floor(Date.now() / 1000) - 1;
    const reply = await timedGet(h.port, appPath(forged), { timeoutMs: 20_000 });
    assert.equal(reply.status, 200, reply.body);
    const now = await inspectAppContainer(forged, run.label);
    assert.ok(now && now.Id !== fake.id, 'a new container');
    assert.equal(now.HostConfig.Privileged, false);
    assert.deepEqual(now.HostConfig.Binds ?? [], []);
    assert.equal(await docker.getContainer(fake.id).inspect().then(() => 'there', () => 'gone'), 'gone', 'the forged one removed');
    // With `until`, the engine sends what happened and ends the answer.
    const events = (await docker.getEvents({ since, until: Math.floor(Date.now() / 1000) + 1, filters: { container: [fake.id], event: ['start'] } })) as Readable;
    let text = '';
    for await (const chunk of events) text += String(chunk);
    assert.equal(text.trim(), '', 'the forged container was never started');
  });

  test('a container made and started outside berth with its labels and a bind mount: not adopted, removed', T, async () => {
    // After the test above: the app serves from berth's own container, which goes now.
    const docker = testDocker();
    const fake = await forgeContainer({ Binds: ['/etc:/host-etc:ro'] });
    await docker.getContainer(fake.id).start();
    // The engine's start event alone leads berth there (resync is off): the container goes, the app stays down.
    await waitFor('the forged running container removed', () => docker.getContainer(fake.id).inspect().then(() => false, () => true), { timeoutMs: 15_000 });
    // Its next start makes the app's own container, as the test above shows (and the unit tests of adoption).
    assert.equal(status(forged)?.state, 'stopped', 'not adopted as running');
    assert.equal(status(forged)?.readyInstances ?? 0, 0, 'nothing to route to');
  });
});

