// Volumes, the launch policy and groups on the real engine: data in an app's
// volume survives an idle stop, the wake and a recreated container; every spec
// asking Docker for more than the policy allows is refused with 403 naming the
// field and creates nothing, while what it allows is what the container gets;
// an app with dependsOn wakes its dependency first, ready before it starts,
// and holds it up while it runs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { appPath, testAppYaml } from '../support/app-spec.js';
import { inspectAppContainer } from '../support/app-container.js';
import { cleanupByLabel, testDocker, testRun } from '../support/docker-cleanup.js';
import { EngineEvents } from '../support/engine-events.js';
import { GatewayHarness } from '../support/gateway-harness.js';
import { timedGet } from '../support/http-requests.js';
import { sleep, waitFor } from '../support/wait-for.js';

const run = testRun();
const vol = `rv${run.id}-vol`;
const db = `rv${run.id}-db`;
const web = `rv${run.id}-web`;
const T = { timeout: 30_000 };

describe('replicas: volumes, launch policy, groups', () => {
  let h: GatewayHarness;
  let events: EngineEvents;
  let shared: string;
  const status = (app: string) => h.gateway?.statuses().find((s) => s.name === app);
  const apply = (yaml: string) => h.api('POST', '/v1/apps', { body: yaml, contentType: 'application/yaml' });
  const containersOf = (app: string) => testDocker().listContainers({ all: true, filters: { label: [`berth.app=${app}`] } });

  before(async () => {
    events = await EngineEvents.open(run.label);
    h = await GatewayHarness.create(run.labels);
    shared = join(h.dir, 'shared');
    await mkdir(shared);
    await writeFile(join(shared, 'hello.txt'), `from the host ${run.id}`);
    await writeFile(
      h.configFile,
      `listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nstore: ./berth.db\npolicy:\n  images: ["berth-test/*"]\n  bindMountRoots: [${JSON.stringify(shared)}]\n  capabilities: [NET_ADMIN]\napps:\n  - ./apps/\n`,
    );
    await h.writeApp('db.yaml', testAppYaml(db, 'idleTimeout: 1s\nenv: {READY_DELAY_MS: "800"}\n'));
    await h.writeApp('web.yaml', testAppYaml(web, `idleTimeout: 1s\ndependsOn: [${db}]\n`));
    await h.start();
  });

  after(async () => {
    events?.close();
    await h?.dispose();
    await cleanupByLabel(run.label);
  });

  test('data written to the volume survives an idle stop, the wake, and a new container', T, async () => {
    const created = await apply(testAppYaml(vol, 'idleTimeout: 1s\nvolume: /data\nenv: {REV: "1"}\n'));
    assert.equal(created.status, 200, created.text);
    const note = `kept ${run.id}`;
    const wrote = await timedGet(h.port, appPath(vol, `/write?path=/data/notes/today.txt&data=${encodeURIComponent(note)}`));
    assert.equal(wrote.status, 200, wrote.body);
    const first = await inspectAppContainer(vol, run.label);
    assert.ok(first?.Mounts.some((m) => m.Type === 'volume' && m.Name === `berth-${vol}-data` && m.Destination === '/data'), 'the named volume is mounted at /data');

    await waitFor('the idle stop', () => status(vol)?.state === 'stopped', { timeoutMs: 5_000 });
    assert.equal((await inspectAppContainer(vol, run.label))?.State.Status, 'exited');
    const woken = await timedGet(h.port, appPath(vol, '/file?path=/data/notes/today.txt'));
    assert.equal(woken.status, 200);
    assert.equal(woken.body, note, 'the data is there after the wake');

    // A changed spec makes a new container; the volume goes with the app, not the container.
    const updated = await apply(testAppYaml(vol, 'idleTimeout: 1s\nvolume: /data\nenv: {REV: "2"}\n'));
    assert.equal(updated.status, 200, updated.text);
    const again = await timedGet(h.port, appPath(vol, '/file?path=/data/notes/today.txt'));
    assert.equal(again.body, note, 'and in the new container');
    const second = await inspectAppContainer(vol, run.label);
    assert.notEqual(second?.Id, first?.Id, 'the container was replaced');
    assert.ok(second?.Config.Env.includes('REV=2'));
  });

  test('each spec asking for more than the launch policy allows is refused with 403 naming the field, and nothing is created', T, async () => {
    const cases: Array<{ what: string; extra: string; field: RegExp; image?: string }> = [
      { what: 'privileged', extra: 'security: {privileged: true}\n', field: /security\.privileged$/ },
      { what: 'a capability not in policy.capabilities', extra: 'security: {capAdd: [NET_ADMIN, SYS_ADMIN]}\n', field: /security\.capAdd(\[1\]|\.1)$/ },
      { what: 'the host network', extra: 'security: {hostNetwork: true}\n', field: /security\.hostNetwork$/ },
      { what: 'the host PID namespace', extra: 'security: {hostPid: true}\n', field: /security\.hostPid$/ },
      { what: 'a bind mount outside bindMountRoots', extra: 'mounts: [{source: /etc, target: /host-etc, readOnly: true}]\n', field: /mounts(\[0\]|\.0)\.source$/ },
      { what: 'a bind mount climbing out of a root', extra: `mounts: [{source: ${JSON.stringify(join(shared, '..', '..'))}, target: /up}]\n`, field: /mounts(\[0\]|\.0)\.source$/ },
      { what: 'a network not in policy.networks', extra: 'network: bridge\n', field: /network$/ },
      { what: 'an image not matching policy.images', extra: '', field: /image$/, image: 'registry.example.com/other/app:1' },
    ];
    for (const [i, c] of cases.entries()) {
      const name = `rv${run.id}-deny${i}`;
      const reply = await apply(testAppYaml(name, `volume: /data\nscale: {min: 1, max: 1}\n${c.extra}`, c.image));
      assert.equal(reply.status, 403, `${c.what}: ${reply.text}`);
      assert.equal(reply.json.code, 'policy_denied', c.what);
      const paths: string[] = reply.json.problems.map((p: { path: string }) => p.path);
      assert.equal(paths.length, 1, `${c.what}: exactly the one field is named: ${paths.join(', ')}`);
      assert.match(paths[0]!, c.field, c.what);
      assert.equal((await h.api('GET', `/v1/apps/${name}`)).status, 404, `${c.what}: no app stored`);
      assert.deepEqual(await containersOf(name), [], `${c.what}: no container`);
      const volumes = (await testDocker().listVolumes({ filters: { name: [`berth-${name}-data`] } })).Volumes ?? [];
      assert.deepEqual(volumes, [], `${c.what}: no volume`);
    }
    // A malformed capability is a spec error (422), not a policy refusal.
    const malformed = await apply(testAppYaml(`rv${run.id}-bad`, 'security: {capAdd: [net_admin]}\n'));
    assert.equal(malformed.status, 422, malformed.text);
    assert.equal(malformed.json.code, 'spec_invalid');
    assert.deepEqual(await containersOf(`rv${run.id}-bad`), []);
  });

  test('what the policy allows is what the container gets, and taking a power away recreates it', T, async () => {
    const name = `rv${run.id}-ok`;
    const mount = `mounts: [{source: ${JSON.stringify(shared)}, target: /shared, readOnly: true}]\n`;
    const created = await apply(testAppYaml(name, `security: {capAdd: [NET_ADMIN]}\n${mount}`));
    assert.equal(created.status, 200, created.text);
    const served = await timedGet(h.port, appPath(name, '/file?path=/shared/hello.txt'));
    assert.equal(served.body, `from the host ${run.id}`, 'the allowed bind mount is there');
    const info = await inspectAppContainer(name, run.label);
    assert.deepEqual(info?.HostConfig.CapAdd, ['NET_ADMIN']);
    assert.ok(info?.HostConfig.SecurityOpt?.includes('no-new-privileges'), 'no-new-privileges, always');
    assert.ok(!info?.HostConfig.Privileged);
    assert.ok(info?.Mounts.some((m) => m.Type === 'bind' && m.Destination === '/shared' && m.RW === false));

    const narrowed = await apply(testAppYaml(name, mount));
    assert.equal(narrowed.status, 200, narrowed.text);
    assert.equal((await timedGet(h.port, appPath(name, '/ping'))).status, 200);
    await waitFor('the container without NET_ADMIN', async () => {
      const now = await inspectAppContainer(name, run.label);
      return now?.State.Status === 'running' && !(now.HostConfig.CapAdd ?? []).includes('NET_ADMIN');
    }, { timeoutMs: 5_000 });
  });

  test('a group wakes in order: the dependency first and ready, held up while the dependent runs, then both idle out', T, async () => {
    assert.equal(status(db)?.state, 'stopped');
    assert.equal(status(web)?.state, 'stopped');
    const first = await timedGet(h.port, appPath(web, '/ping'));
    assert.equal(first.status, 200);
    assert.equal(status(db)?.state, 'running', 'the dependency runs');
    assert.ok(first.ms >= 800, `the request waited for the dependency to get ready (${Math.round(first.ms)} ms)`);

    const [dbInfo, webInfo] = await Promise.all([inspectAppContainer(db, run.label), inspectAppContainer(web, run.label)]);
    const dbStarted = Date.parse(dbInfo!.State.StartedAt);
    const webStarted = Date.parse(webInfo!.State.StartedAt);
    assert.ok(webStarted - dbStarted >= 800, `web started ${webStarted - dbStarted} ms after db, once db was ready (its READY_DELAY_MS is 800)`);
    await events.settledCount(web, 'start', 1);
    const starts = events.events.filter((e) => e.action === 'start' && (e.app === db || e.app === web)).map((e) => e.app);
    assert.deepEqual(starts, [db, web], 'the engine saw db start, then web');

    // web stays busy for well over db's 1 s idle timeout; db gets no request of its own.
    for (let i = 0; i < 8; i++) {
      await sleep(300);
      assert.equal((await timedGet(h.port, appPath(web, '/ping'))).status, 200);
      assert.equal(status(db)?.state, 'running', `db held up while web runs (${i})`);
    }
    await waitFor('web to idle out', () => status(web)?.state === 'stopped', { timeoutMs: 4_000, intervalMs: 10 });
    assert.equal(status(db)?.state, 'running', 'db was still up when web stopped');
    const webStopped = performance.now();
    await waitFor('db to idle out too', () => status(db)?.state === 'stopped', { timeoutMs: 4_000, intervalMs: 10 });
    const dbAfter = performance.now() - webStopped;
    assert.ok(dbAfter >= 800, `db stopped its own idle timeout after web (${Math.round(dbAfter)} ms)`);
    assert.equal((await inspectAppContainer(db, run.label))?.State.Status, 'exited');
  });
});
