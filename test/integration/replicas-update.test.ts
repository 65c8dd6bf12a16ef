// Zero-downtime updates on the real engine, under continuous bounded load:
// a new image (blue-green) and an env change (rolling) replace every instance
// without a failed request; a broken revision (crashes on start, or never
// ready) is rolled back, the apply says why, and the old instances keep serving.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appPath, testAppYaml } from '../support/app-spec.js';
import { cleanupByLabel, testDocker, testRun } from '../support/docker-cleanup.js';
import { GatewayHarness } from '../support/gateway-harness.js';
import { timedGet } from '../support/http-requests.js';
import { APP_IMAGE } from '../support/images.js';
import { loadLoop, type LoadResult } from '../support/load-loop.js';
import { sleep, waitFor } from '../support/wait-for.js';

const run = testRun();
const app = `ru${run.id}`;
const NEW_TAG = `update-${run.id}`;
const NEW_IMAGE = `berth-test/app:${NEW_TAG}`;
const T = { timeout: 40_000 };

/** The app's spec: two replicas, `extra` YAML appended. */
function spec(extra: string, image = APP_IMAGE, startTimeout = '10s'): string {
  return testAppYaml(app, `scale: {min: 2, max: 2}\nstartTimeout: ${startTimeout}\n${extra}`, image);
}

/**
 * A revision that never gets ready. Its start timeout is all the test waits out, so it is
 * shorter than the 10 s the revisions that do start get on a loaded machine.
 */
const NEVER_READY = ['env: {VERSION: "5", READY_DELAY_MS: "60000"}\nstrategy: {type: rolling, batchSize: 1}\n', NEW_IMAGE, '4s'] as const;

describe('replicas: zero-downtime updates and rollback under load', () => {
  let h: GatewayHarness;
  const status = () => h.gateway?.statuses().find((s) => s.name === app);
  const containers = async () => {
    const list = await testDocker().listContainers({ filters: { label: [`berth.app=${app}`, run.label], status: ['running'] } });
    return Promise.all(list.map((c) => testDocker().getContainer(c.Id).inspect()));
  };
  const apply = (yaml: string) => h.api('POST', '/v1/apps', { body: yaml, contentType: 'application/yaml' });

  /** Applies `yaml` while 4 clients keep sending GETs; the load goes on 300 ms past the apply's answer. */
  async function applyUnderLoad(yaml: string): Promise<{ applied: Awaited<ReturnType<typeof apply>>; applyMs: number; load: LoadResult }> {
    const load = loadLoop(h.port, appPath(app, '/echo'), { clients: 4, maxMs: 25_000 });
    await sleep(300);
    const began = performance.now();
    const applied = await apply(yaml);
    const applyMs = performance.now() - began;
    await sleep(300);
    return { applied, applyMs, load: await load.stop() };
  }

  /** VERSION as each running container of the app has it, from inside (the app's /env), for `n` requests. */
  async function versionsServed(n: number): Promise<Set<string>> {
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const reply = await timedGet(h.port, appPath(app, '/env'));
      assert.equal(reply.status, 200);
      seen.add((JSON.parse(reply.body) as Record<string, string>).VERSION ?? '');
    }
    return seen;
  }

  before(async () => {
    await testDocker().getImage(APP_IMAGE).tag({ repo: 'berth-test/app', tag: NEW_TAG });
    h = await GatewayHarness.create(run.labels);
    await h.writeConfig();
    await h.start();
    const created = await apply(spec('env: {VERSION: "1"}\n'));
    assert.equal(created.status, 200, created.text);
    await waitFor('two instances ready', () => status()?.readyInstances === 2, { timeoutMs: 30_000 });
  });

  after(async () => {
    await h?.dispose();
    await cleanupByLabel(run.label);
    await testDocker().getImage(NEW_IMAGE).remove().catch(() => undefined);
  });

  test('a new image is rolled out blue-green under load with zero failed requests', T, async () => {
    const old = new Set((await containers()).map((c) => c.Id));
    assert.equal(old.size, 2);
    const { applied, load } = await applyUnderLoad(spec('env: {VERSION: "2"}\n', NEW_IMAGE));
    assert.equal(applied.status, 200, applied.text);
    assert.equal(applied.json.results[0].action, 'updated');
    assert.equal(applied.json.results[0].error, undefined, 'the apply reports no error');
    assert.deepEqual(load.failures, [], `no failed request out of ${load.requests}`);
    assert.ok(load.requests > 40, `the load kept going (${load.requests})`);

    const now = await containers();
    assert.equal(now.length, 2, 'two instances, no leftovers');
    for (const c of now) {
      assert.ok(!old.has(c.Id), 'every instance is new');
      assert.equal(c.Config.Image, NEW_IMAGE);
      assert.ok(c.Config.Env.includes('VERSION=2'));
    }
    // Both revisions served during the load: the switch happened while it ran.
    const newHosts = new Set(now.map((c) => c.Config.Hostname));
    const served = [...load.byHost.keys()];
    assert.ok(served.some((host) => newHosts.has(host)) && served.some((host) => !newHosts.has(host)), `old and new served: ${JSON.stringify([...load.byHost])}`);
    assert.deepEqual(await versionsServed(6), new Set(['2']));
    assert.equal(status()?.readyInstances, 2);
  });

  test('an env change is rolled out one instance at a time (rolling) with zero failed requests', T, async () => {
    const old = new Set((await containers()).map((c) => c.Id));
    const { applied, load } = await applyUnderLoad(spec('env: {VERSION: "3"}\nstrategy: {type: rolling, batchSize: 1}\n', NEW_IMAGE));
    assert.equal(applied.status, 200, applied.text);
    assert.deepEqual(load.failures, [], `no failed request out of ${load.requests}`);
    const now = await containers();
    assert.equal(now.length, 2);
    assert.ok(now.every((c) => !old.has(c.Id) && c.Config.Env.includes('VERSION=3')), 'every instance runs the new env');
    assert.deepEqual(await versionsServed(6), new Set(['3']));
  });

  test('a revision that crashes on start is rolled back with zero failed requests; the apply says why', T, async () => {
    const old = (await containers()).map((c) => c.Id).sort();
    const { applied, load } = await applyUnderLoad(spec('env: {VERSION: "4", EXIT_ON_START: "1"}\n', NEW_IMAGE));
    assert.deepEqual(load.failures, [], `no failed request out of ${load.requests}`);
    // The apply fails, saying why: the container's exit, seen by the readiness wait or already by the start itself.
    assert.equal(applied.status, 502, applied.text);
    assert.equal(applied.json.code, 'upstream_unavailable');
    assert.match(String(applied.json.detail), new RegExp(`^${app}: revision \\d+ was rolled back, revision \\d+ keeps serving: .*exited with code 1`), applied.text);
    const view = await h.api('GET', `/v1/apps/${app}`);
    assert.match(String(view.json.status.lastError), /rolled back.*exited with code 1/);
    assert.equal(view.json.state, 'running');
    // The rolled-back revision was never stored as desired.
    assert.equal(view.json.spec.env.VERSION, '3', `the stored spec is the one that works: ${JSON.stringify(view.json.spec.env)}`);

    assert.deepEqual((await containers()).map((c) => c.Id).sort(), old, 'the old instances still run, and only they');
    assert.deepEqual(await versionsServed(6), new Set(['3']), 'and they serve');
    const all = await testDocker().listContainers({ all: true, filters: { label: [`berth.app=${app}`, run.label] } });
    assert.equal(all.length, 2, `the broken instances were removed: ${all.map((c) => `${c.Names[0]} ${c.State}`).join(', ')}`);
  });

  test('a revision that never gets ready is rolled back at its start timeout, the old instances serving throughout', T, async () => {
    const old = (await containers()).map((c) => c.Id).sort();
    const { applied, applyMs, load } = await applyUnderLoad(spec(...NEVER_READY));
    assert.deepEqual(load.failures, [], `no failed request out of ${load.requests}`);
    assert.ok(applyMs >= 3_900 && applyMs < 10_000, `the apply answered once the 4s start timeout had passed (${Math.round(applyMs)} ms)`);
    assert.equal(applied.status, 502, applied.text);
    assert.match(String(applied.json.detail), /rolled back.*not ready in time/, applied.text);
    assert.deepEqual((await containers()).map((c) => c.Id).sort(), old);
    assert.deepEqual([...load.byHost.keys()].sort(), (await containers()).map((c) => c.Config.Hostname).sort(), 'only the old instances ever served');
    assert.deepEqual(await versionsServed(4), new Set(['3']));
  });

  test('applying again the revision just rolled back fails again, deploys nothing and stores nothing', T, async () => {
    const before = await h.api('GET', `/v1/apps/${app}`);
    const again = await apply(spec(...NEVER_READY));
    assert.equal(again.status, 502, `not "updated": ${again.text}`);
    assert.match(String(again.json.detail), /was rolled back/, again.text);
    const after = await h.api('GET', `/v1/apps/${app}`);
    assert.equal(after.json.revision, before.json.revision, 'no new revision');
    assert.equal(after.json.spec.env.VERSION, '3');
  });

  test('after a rollback, a lost instance is replaced by one of the revision that works', T, async () => {
    const [victim] = await containers();
    await testDocker().getContainer(victim!.Id).kill();
    await waitFor('the killed instance out of rotation', () => (status()?.readyInstances ?? 0) < 2, { timeoutMs: 5_000, intervalMs: 5 });
    await waitFor('two instances ready again', async () => status()?.readyInstances === 2 && (await containers()).length === 2, { timeoutMs: 30_000 });
    assert.deepEqual(await versionsServed(6), new Set(['3']));
    const now = await containers();
    assert.ok(now.every((c) => c.Config.Env.includes('VERSION=3') && !c.Config.Env.includes('READY_DELAY_MS=60000')), 'both run the revision that works');
  });
});
