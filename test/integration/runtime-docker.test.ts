import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { adoptedExit } from '../../src/activator/adopted-exit.js';
import { ConflictError, EngineUnavailableError, NotFoundError, RuntimeError, lastOutputOf } from '../../src/errors.js';
import { DockerRuntime } from '../../src/runtime/docker/docker-runtime.js';
import { lastOutput } from '../../src/runtime/last-output.js';
import type { Instance, RuntimeEvent } from '../../src/runtime/runtime.js';
import type { AppSpec } from '../../src/spec/types.js';
import { cleanupByLabel, testDocker, testRun } from '../support/docker-cleanup.js';
import { HTTPD_IMAGE } from '../support/images.js';
import { appSpec } from '../support/spec-fixture.js';

const run = testRun();
// A network of the run's own, labelled with it, so cleanup removes it (berth's default is shared).
const APPS_NET = `berth-apps-test-${run.id}`;
const runtime = new DockerRuntime({ extraLabels: run.labels, appsNetwork: APPS_NET });
const docker = testDocker();
const T = { timeout: 60_000 };

/** A fresh app name per test, so tests never see each other's containers. */
function appName(): string {
  return `rt-${run.id}-${randomBytes(2).toString('hex')}`;
}

function spec(name: string, overrides: Partial<AppSpec> = {}): AppSpec {
  return appSpec(name, { startTimeoutMs: 30_000, ...overrides }, HTTPD_IMAGE);
}

/** GETs until the app answers at all (docker-proxy accepts before the app listens). */
async function httpStatus(address: { host: string; port: number }, path = '/', timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`http://${address.host}:${address.port}${path}`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      return res.status;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await delay(100);
    }
  }
}

async function exists(id: string): Promise<boolean> {
  return docker.getContainer(id).inspect().then(() => true, () => false);
}

describe('DockerRuntime on a real engine', () => {
  before(async () => {
    await runtime.ping();
    await docker.getImage(HTTPD_IMAGE).inspect().catch(() => {
      throw new Error(`${HTTPD_IMAGE} is missing: run scripts/build-test-images.sh`);
    });
  });

  // after() runs even when tests fail; only this run's objects are removed.
  after(() => cleanupByLabel(run.label));

  it('ensure creates a labelled, init-run, loopback-published container without starting it', T, async () => {
    const s = spec(appName(), { labels: { team: 'qa' } });
    const inst = await runtime.ensure(s, 0);
    assert.equal(inst.name, `berth-${s.name}-0`);
    assert.equal(inst.state, 'created');
    assert.equal(inst.address, undefined);
    const info = await docker.getContainer(inst.id).inspect();
    const labels = info.Config.Labels;
    assert.equal(labels['berth.managed'], 'true');
    assert.equal(labels['berth.app'], s.name);
    assert.equal(labels['berth.index'], '0');
    assert.match(labels['berth.spec-hash'] ?? '', /^[0-9a-f]{16}$/);
    assert.equal(labels['team'], 'qa');
    assert.equal(labels['berth.test'], 'true');
    assert.equal(info.HostConfig.Init, true);
    assert.equal(info.HostConfig.RestartPolicy?.Name, 'no');
    assert.deepEqual(info.HostConfig.PortBindings, { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
    // An app writing without end must not fill the host's disk through the engine's default json-file log.
    if ((await docker.info()).LoggingDriver === 'json-file') assert.deepEqual(info.HostConfig.LogConfig, { Type: 'json-file', Config: { 'max-size': '20m', 'max-file': '5' } });
    // A never-started container is listed from the engine's summary alone: the same as its inspect.
    assert.deepEqual(await runtime.list({ app: s.name }), [await runtime.inspect(inst.id)]);
    assert.deepEqual(await runtime.list({ apps: [s.name, 'no-such-app'] }), [await runtime.inspect(inst.id)]);
    assert.deepEqual(await runtime.list({ apps: ['no-such-app'] }), []);
  });

  it('start publishes the port on 127.0.0.1 only and the address answers HTTP', T, async () => {
    const s = spec(appName());
    const created = await runtime.ensure(s, 0);
    const started = await runtime.start(created.id);
    assert.equal(started.state, 'running');
    assert.equal(started.address?.host, '127.0.0.1');
    assert.ok((started.address?.port ?? 0) > 0);
    assert.equal(typeof (await httpStatus(started.address!)), 'number');
    const ports = (await docker.getContainer(created.id).inspect()).NetworkSettings.Ports['8080/tcp'] ?? [];
    assert.ok(ports.length > 0);
    for (const p of ports) assert.ok(p.HostIp === '127.0.0.1' || p.HostIp === '::1', `bound on ${p.HostIp}`);
    // Starting a running container is a no-op with the same address.
    assert.deepEqual((await runtime.start(created.id)).address, started.address);
  });

  it('ensure adopts a matching container, also a running one, and ignores gateway-only changes', T, async () => {
    const s = spec(appName());
    const first = await runtime.ensure(s, 0);
    await runtime.start(first.id);
    const again = await runtime.ensure({ ...s, routes: [{ host: 'x.example.com', stripPrefix: true }], idleTimeoutMs: 1_000 }, 0);
    assert.equal(again.id, first.id);
    assert.equal(again.state, 'running');
  });

  it('a changed spec recreates the container and removes the old one', T, async () => {
    const s = spec(appName(), { env: { COLOR: 'blue' } });
    const old = await runtime.ensure(s, 0);
    await runtime.start(old.id);
    const next = await runtime.ensure({ ...s, env: { COLOR: 'green' } }, 0);
    assert.notEqual(next.id, old.id);
    assert.notEqual(next.specHash, old.specHash);
    assert.equal(await exists(old.id), false);
    const env = (await docker.getContainer(next.id).inspect()).Config.Env;
    assert.ok(env.includes('COLOR=green'));
  });

  it('a foreign container with the app name is a conflict and is left untouched', T, async () => {
    const s = spec(appName());
    // Labelled for cleanup, but not berth.managed: to berth it is someone else's.
    const foreign = await docker.createContainer({ name: `berth-${s.name}-0`, Image: HTTPD_IMAGE, Labels: run.labels });
    await foreign.start();
    await assert.rejects(runtime.ensure(s, 0), (err: unknown) => {
      assert.ok(err instanceof ConflictError);
      assert.match(err.message, new RegExp(`berth-${s.name}-0.*not created by berth.*untouched`));
      return true;
    });
    await assert.rejects(runtime.start(foreign.id), ConflictError);
    await assert.rejects(runtime.stop(foreign.id), ConflictError);
    await assert.rejects(runtime.remove(foreign.id), ConflictError);
    await assert.rejects(runtime.logs(foreign.id), ConflictError);
    assert.equal(await runtime.inspect(foreign.id), undefined);
    assert.deepEqual(await runtime.list({ app: s.name }), []);
    const info = await docker.getContainer(foreign.id).inspect();
    assert.equal(info.State.Status, 'running');
    assert.equal(info.Id, foreign.id);
  });

  it('list and inspect return only berth-managed containers', T, async () => {
    const s = spec(appName());
    const a = await runtime.ensure(s, 0);
    const b = await runtime.ensure(s, 1);
    const other = await docker.createContainer({ Image: HTTPD_IMAGE, Labels: { ...run.labels, 'berth.app': s.name } });
    const mine = await runtime.list({ app: s.name });
    assert.deepEqual(mine.map((i) => [i.id, i.index]), [[a.id, 0], [b.id, 1]]);
    const all = await runtime.list();
    assert.ok(all.some((i) => i.id === a.id));
    assert.ok(!all.some((i) => i.id === other.id));
    assert.equal((await runtime.inspect(a.id))?.name, `berth-${s.name}-0`);
    assert.equal((await runtime.inspect(`berth-${s.name}-1`))?.id, b.id);
    assert.equal(await runtime.inspect(other.id), undefined);
    assert.equal(await runtime.inspect('berth-no-such-container-0'), undefined);
    await assert.rejects(runtime.start('berth-no-such-container-0'), NotFoundError);
  });

  it('stop is fast thanks to the init process and leaves the container exited', T, async () => {
    const s = spec(appName());
    const inst = await runtime.start((await runtime.ensure(s, 0)).id);
    const t0 = performance.now();
    await runtime.stop(inst.id);
    const elapsedMs = performance.now() - t0;
    assert.ok(elapsedMs < 5_000, `stop took ${Math.round(elapsedMs)} ms; without init it waits out the 10 s timeout`);
    const after = await runtime.inspect(inst.id);
    assert.equal(after?.state, 'exited');
    assert.equal(after?.address, undefined);
    await runtime.stop(inst.id); // already stopped: fine
    // A stopped container starts again, on a possibly different port.
    const again = await runtime.start(inst.id);
    assert.equal(typeof (await httpStatus(again.address!)), 'number');
  });

  it('a command that cannot run: its failure quotes what docker init said, not only the exit code', T, async () => {
    const s = spec(appName(), { command: ['/nope'] });
    const created = await runtime.ensure(s, 0);
    // The container may exit before start looks again (start fails, quoting it) or just after (readiness sees it).
    const failed = await runtime.start(created.id).then(() => undefined, (err: Error) => err);
    if (failed) {
      assert.match(failed.message, /exited with code 127 right after starting; its logs say why$/);
      assert.match(lastOutputOf(failed) ?? '', /^its last output: .*exec \/nope failed/);
    }
    for (let i = 0; i < 100 && (await runtime.inspect(created.id))?.state === 'running'; i++) await delay(50);
    const ended = await runtime.inspect(created.id);
    assert.equal(ended?.exitCode, 127);
    // What a gateway that finds it so tells of the app (adoptedExit): the engine's exit time is read.
    // Read, and a moment of this run: not its order against StartedAt, which the engine can record after
    // FinishedAt for a container that exits at once (failed in CI: the exit was handled before the start was).
    const finished = ended.finishedAt?.getTime();
    assert.ok(finished !== undefined && Math.abs(Date.now() - finished) < 10 * 60_000, `FinishedAt read: ${ended.finishedAt?.toISOString()} (StartedAt ${ended.startedAt?.toISOString()})`);
    assert.match(adoptedExit(ended)?.reason ?? '', /^its container exited with code 127 at \d{4}-\d\d-\d\dT[\d:.]+Z \(before this gateway took the app over\)$/);
    assert.match((await lastOutput((options) => runtime.logs(created.id, options))) ?? '', /^its last output: .*exec \/nope failed: No such file or directory/);
  });

  it('stop says whether it came to the kill: an app that ignores SIGTERM is killed after the timeout, one that exits is not', T, async () => {
    // The shell ignores TERM and so does httpd, which inherits that; docker's init passes SIGTERM to it.
    const stubborn = spec(appName(), { command: ['/bin/busybox', 'sh', '-c', "trap '' TERM; exec /bin/busybox httpd -f -p 8080 -h /www"] });
    const inst = await runtime.start((await runtime.ensure(stubborn, 0)).id);
    assert.deepEqual(await runtime.stop(inst.id, { timeoutS: 1 }), { killed: true });
    assert.equal((await runtime.inspect(inst.id))?.exitCode, 137);
    const polite = await runtime.start((await runtime.ensure(spec(appName()), 0)).id);
    assert.deepEqual(await runtime.stop(polite.id, { timeoutS: 1 }), { killed: false });
  });

  it('start unpauses a paused container; remove kills a running one', T, async () => {
    const s = spec(appName());
    const inst = await runtime.start((await runtime.ensure(s, 0)).id);
    await docker.getContainer(inst.id).pause();
    assert.equal((await runtime.inspect(inst.id))?.state, 'paused');
    const resumed = await runtime.start(inst.id);
    assert.equal(resumed.state, 'running');
    assert.equal(typeof (await httpStatus(resumed.address!)), 'number');
    await runtime.remove(inst.id);
    assert.equal(await exists(inst.id), false);
    await assert.rejects(runtime.remove(inst.id), NotFoundError);
  });

  it('events yields start and die for berth containers only, and ends on abort', T, async () => {
    const s = spec(appName());
    const inst = await runtime.ensure(s, 0);
    const foreign = await docker.createContainer({ Image: HTTPD_IMAGE, Labels: run.labels });
    const ac = new AbortController();
    const seen: RuntimeEvent[] = [];
    const consumer = (async () => {
      for await (const ev of runtime.events(ac.signal)) {
        if (ev.instanceId === inst.id || ev.instanceId === foreign.id) seen.push(ev);
      }
    })();
    await delay(300); // let the event stream connect before anything happens
    await foreign.start();
    await runtime.start(inst.id);
    await runtime.stop(inst.id, { timeoutS: 5 });
    const deadline = Date.now() + 10_000;
    while (!seen.some((e) => e.kind === 'die') && Date.now() < deadline) await delay(50);
    ac.abort();
    await consumer; // must end promptly once aborted
    const kinds = seen.map((e) => e.kind);
    assert.ok(kinds.includes('start'), `saw ${kinds.join(',')}`);
    const die = seen.find((e) => e.kind === 'die');
    assert.ok(die, `saw ${kinds.join(',')}`);
    assert.equal(typeof die.exitCode, 'number');
    assert.ok(seen.every((e) => e.instanceId === inst.id && e.app === s.name), 'no event for the foreign container');
  });

  it('logs returns stdout and stderr as text; follow ends on abort', T, async () => {
    const s = spec(appName(), {
      command: ['/bin/busybox', 'sh', '-c', 'echo hello-stdout; echo hello-stderr >&2; exec /bin/busybox sleep 600'],
    });
    const inst = await runtime.start((await runtime.ensure(s, 0)).id);
    let text = '';
    for (let i = 0; i < 50 && !text.includes('hello-stderr'); i++) {
      text = '';
      for await (const chunk of await runtime.logs(inst.id)) text += chunk;
      if (!text.includes('hello-stderr')) await delay(100);
    }
    assert.match(text, /hello-stdout\n/);
    assert.match(text, /hello-stderr\n/);
    assert.ok(!text.includes('\u0001'), 'no stream headers left');
    let tail = '';
    for await (const chunk of await runtime.logs(inst.id, { tail: 1 })) tail += chunk;
    assert.equal(tail.trim().split('\n').length, 1);

    const ac = new AbortController();
    const followed = await runtime.logs(inst.id, { follow: true, signal: ac.signal });
    let live = '';
    const reading = (async () => {
      for await (const chunk of followed) live += chunk;
    })();
    setTimeout(() => ac.abort(), 500);
    await reading; // ends (not errors) on abort
    assert.match(live, /hello-stdout/);
  });

  it('creates the named volume and keeps it on remove unless purgeVolumes', T, async () => {
    const s = spec(appName(), { volume: '/data' });
    const volume = `berth-${s.name}-data`;
    const first = await runtime.ensure(s, 0);
    const vol = await docker.getVolume(volume).inspect();
    assert.equal(vol.Labels['berth.managed'], 'true');
    assert.equal(vol.Labels['berth.app'], s.name);
    const mounts = (await docker.getContainer(first.id).inspect()).Mounts;
    assert.ok(mounts.some((m) => m.Type === 'volume' && m.Name === volume && m.Destination === '/data'));
    await runtime.remove(first.id);
    assert.equal(await exists(first.id), false);
    await docker.getVolume(volume).inspect(); // still there
    const second = await runtime.ensure(s, 0);
    await runtime.remove(second.id, { purgeVolumes: true });
    await assert.rejects(docker.getVolume(volume).inspect(), { statusCode: 404 });
  });

  it('joins the spec network besides the default bridge and the apps network; a missing network fails cleanly', T, async () => {
    const net = `berth-test-${run.id}-${randomBytes(2).toString('hex')}`;
    await docker.createNetwork({ Name: net, Labels: run.labels });
    const s = spec(appName(), { network: net });
    const inst = await runtime.ensure(s, 0);
    const networks = Object.keys((await docker.getContainer(inst.id).inspect()).NetworkSettings.Networks);
    assert.deepEqual(networks.sort(), [APPS_NET, 'bridge', net].sort());
    const started = await runtime.start(inst.id);
    assert.equal(typeof (await httpStatus(started.address!)), 'number');

    const missing = spec(appName(), { network: `no-such-net-${run.id}` });
    await assert.rejects(runtime.ensure(missing, 0), (err: unknown) => {
      assert.ok(err instanceof RuntimeError);
      assert.match(err.message, /does not exist.*docker network create/);
      return true;
    });
    assert.deepEqual(await runtime.list({ app: missing.name }), []);

    // A name that is no network's but begins another network's ID: the engine would join that one.
    const id = (await docker.getNetwork(net).inspect()).Id as string;
    let prefix = id.slice(0, 6);
    for (let n = 7; (await docker.listNetworks({ filters: { name: [prefix] } })).some((x) => x.Name === prefix); n++) prefix = id.slice(0, n);
    const byPrefix = spec(appName(), { network: prefix });
    await assert.rejects(runtime.ensure(byPrefix, 0), (err: unknown) => {
      assert.ok(err instanceof RuntimeError);
      assert.match(err.message, new RegExp(`network ${prefix} does not exist.*ID of network ${net}`));
      return true;
    });
    assert.deepEqual(await runtime.list({ app: byPrefix.name }), []);
  });

  it('a stopped container whose apps network was removed behind berth’s back starts: the network is made again', T, async () => {
    // A network of this test's own: removing the shared one would take it from the other tests' containers.
    const net = `berth-apps-test-${run.id}-gone`;
    const own = new DockerRuntime({ extraLabels: run.labels, appsNetwork: net });
    const inst = await own.ensure(spec(appName()), 0);
    await docker.getNetwork(net).remove();
    const started = await own.start(inst.id);
    assert.equal(started.state, 'running');
    assert.equal(typeof (await httpStatus(started.address!)), 'number');
    const networks = Object.keys((await docker.getContainer(inst.id).inspect()).NetworkSettings.Networks);
    assert.ok(networks.includes(net), `on ${networks.join(', ')}`);
  });

  it('a running container taken off the apps network behind berth’s back is joined again by start', T, async () => {
    const inst = await runtime.ensure(spec(appName()), 0);
    const first = await runtime.start(inst.id);
    assert.ok(first.address);
    await docker.getNetwork(APPS_NET).disconnect({ Container: inst.id, Force: true });
    // The engine publishes it again through the default bridge at another port, or not at all: the port berth dials is dead.
    assert.notEqual((await runtime.inspect(inst.id))?.address?.port, first.address.port, 'the port berth dialled is gone');
    const again = await runtime.start(inst.id);
    assert.equal(again.state, 'running');
    assert.ok(again.address, 'published');
    assert.equal(typeof (await httpStatus(again.address)), 'number');
    const networks = Object.keys((await docker.getContainer(inst.id).inspect()).NetworkSettings.Networks);
    assert.ok(networks.includes(APPS_NET), `back on ${APPS_NET}: on ${networks.join(', ')}`);
  });

  it('a missing image is a clear RuntimeError and nothing is pulled or created', T, async () => {
    const s = spec(appName(), { image: `berth-test/absent-${run.id}:latest` });
    await assert.rejects(runtime.ensure(s, 0), (err: unknown) => {
      assert.ok(err instanceof RuntimeError);
      assert.match(err.message, /image berth-test\/absent-.* is not present on the Docker host.*build or load it \(berth never pulls\)/);
      return true;
    });
    assert.deepEqual(await runtime.list({ app: s.name }), []);
  });

  it('ping names the engine and what to do when it does not answer', T, async () => {
    const down = new DockerRuntime({ docker: `unix:///tmp/berth-no-engine-${run.id}.sock` });
    await assert.rejects(down.ping(), (err: unknown) => {
      assert.ok(err instanceof EngineUnavailableError);
      assert.match(err.message, /Docker engine at unix:\/\/\/tmp\/berth-no-engine-.*\.sock does not answer.*is dockerd running\? run scripts\/ensure-docker\.sh/);
      return true;
    });
    await assert.rejects(down.list(), /does not answer/);
  });

  it('concurrent ensures of one instance create a single container', T, async () => {
    const s = spec(appName());
    // allSettled: a failure must not let after() clean up while another ensure still creates.
    const settled = await Promise.allSettled([runtime.ensure(s, 0), runtime.ensure(s, 0), runtime.ensure(s, 0)]);
    const results: Instance[] = settled.map((r) => {
      if (r.status === 'rejected') throw r.reason;
      return r.value;
    });
    assert.equal(new Set(results.map((r) => r.id)).size, 1);
    assert.equal((await runtime.list({ app: s.name })).length, 1);
  });

  it('a stopped container under a `docker rm -f` from outside is gone to start, and ensure makes a new one once the removal is done', T, async () => {
    const s = spec(appName());
    let old = await runtime.ensure(s, 0);
    for (let round = 0; round < 3; round++) {
      // Not running (created, or stopped by an idle stop): the engine marks it for removal at once, and a start
      // gets 409 "marked for removal" until it is gone.
      const removing = docker.getContainer(old.id).remove({ force: true });
      const started = await runtime.start(old.id).then(() => 'started', (err: unknown) => err);
      // A start that won the race runs until the removal kills it; anything else is "gone", never a conflict.
      if (started !== 'started') assert.ok(started instanceof NotFoundError, `round ${round}: ${String(started)}`);
      const made = await runtime.ensure(s, 0);
      await removing;
      assert.notEqual(made.id, old.id, `round ${round}: a new container`);
      assert.ok(await exists(made.id), `round ${round}: it exists`);
      old = made;
    }
  });
});
