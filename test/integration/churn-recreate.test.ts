// A spawner (JupyterHub-like, a preview system) deleting and creating the same app again
// and again, through the API and the cntSpawner form, with a request in flight at each
// delete, against a real `berth serve` and the real engine. Every request gets an answer
// (the app's, or a problem+json), the gateway lives, nothing of the deleted apps is left
// in the engine, the end state is the last call's, the new app's history is its own, and
// the gateway's open files do not grow with the cycles.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { berthJson, cliEnv } from '../support/berth-cli.js';
import { cleanupByLabel, testDocker } from '../support/docker-cleanup.js';
import { GatewayProcess, removeAppContainers } from '../support/gateway-process.js';
import { APP_IMAGE } from '../support/images.js';
import { waitFor } from '../support/wait-for.js';

const runId = randomBytes(3).toString('hex');
const app = `churn${runId}`;
const CYCLES = 8;
/** The cycles with a request in flight at the delete: the running app's (drained), and a never-started one's (a cold start called off). Few: a called-off start costs seconds of engine time. */
const WITH_REQUEST = new Set([1, 5]);
const labels = { 'berth-test': 'true', 'berth-test-run': runId };

const apiSpec = (cycle: number) => ({ apiVersion: 'berth/v1', name: app, image: APP_IMAGE, port: 8080, readiness: { path: '/healthz' }, labels, env: { CYCLE: String(cycle) }, routes: [{ path: `/s/${app}/`, stripPrefix: true }] });
/** Seed 000's body; its route keeps the prefix (the test app answers any path). */
const cntSpawnerBody = (cycle: number) => ({
  name: app,
  image: APP_IMAGE,
  labels: { ...labels, [`traefik.http.routers.${app}.rule`]: `PathPrefix("/s/${app}/")`, [`traefik.http.services.${app}.loadbalancer.server.port`]: '8080' },
  envs: { CYCLE: String(cycle) },
});

describe('one app deleted and created again, over and over', { timeout: 90_000 }, () => {
  let gw: GatewayProcess;
  const fds = () => readdirSync(`/proc/${gw.pid}/fd`).length;
  const get = async (path: string) => {
    try {
      const res = await fetch(`http://127.0.0.1:${gw.proxyPort}/s/${app}/${path}`, { signal: AbortSignal.timeout(30_000) });
      await res.arrayBuffer();
      return { status: res.status, type: res.headers.get('content-type') ?? '' };
    } catch (err) {
      return { status: 0, type: `no answer: ${String((err as { cause?: { code?: string } }).cause?.code ?? err)}` };
    }
  };

  before(async () => {
    gw = await GatewayProcess.start({ apps: {} });
  });

  after(async () => {
    await gw?.dispose();
    await removeAppContainers([app]);
    await cleanupByLabel(`berth-test-run=${runId}`);
    // dispose() tried the apps network while the app's container (not one of its config's apps) still used it.
    if (gw?.network) await testDocker().getNetwork(gw.network).remove().catch(() => undefined);
  });

  test('answers, engine, end state, history and open files', async () => {
    assert.equal((await gw.api('POST', '/v1/apps', apiSpec(0))).status, 200);
    assert.equal((await get('old')).status, 200, gw.tail());
    const fdsBefore = fds();
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const inFlight = WITH_REQUEST.has(cycle) ? get(`slow?ms=${cycle * 40}`) : undefined;
      const deleted = await gw.api('DELETE', `/v1/apps/${app}`);
      assert.equal(deleted.status, 200, JSON.stringify(deleted.json));
      const created = cycle % 2 ? await gw.api('POST', '/v1/apps', apiSpec(cycle)) : await gw.api('POST', '/v1/', cntSpawnerBody(cycle));
      assert.ok(created.status === 200 || created.status === 201, JSON.stringify(created.json));
      const answer = await inFlight;
      if (!answer) continue;
      assert.ok([200, 404, 502, 503].includes(answer.status), `cycle ${cycle}: ${JSON.stringify(answer)}`);
      if (answer.status >= 500) assert.match(answer.type, /^application\/problem\+json/, `cycle ${cycle}`);
    }
    assert.equal((await get('new')).status, 200, gw.tail());
    gw.assertAlive('the cycles');

    const shown = await gw.api('GET', `/v1/apps/${app}`);
    assert.equal(shown.json.spec.env.CYCLE, String(CYCLES), 'the last create stands');
    const listed = await berthJson<{ apps?: Array<{ name: string }> } | Array<{ name: string }>>(['ls'], cliEnv({ BERTH_URL: `http://127.0.0.1:${gw.adminPort}`, BERTH_TOKEN: gw.adminToken }));
    assert.deepEqual((Array.isArray(listed) ? listed : listed.apps ?? []).map((a) => a.name), [app]);

    const docker = testDocker();
    const containers = await docker.listContainers({ all: true, filters: { label: [`berth.app=${app}`] } });
    assert.deepEqual(containers.map((c) => c.State), ['running'], 'only the last app\'s container is left');
    const inspected = await docker.getContainer(containers[0]!.Id).inspect();
    assert.equal(inspected.Config.Env.find((e) => e.startsWith('CYCLE=')), `CYCLE=${CYCLES}`);
    const byName = await docker.listContainers({ all: true, filters: { name: [`berth-${app}`] } });
    assert.deepEqual(byName.filter((c) => c.Labels['berth.managed'] !== 'true').map((c) => c.Names), [], 'none unlabelled');
    assert.equal(((await docker.listVolumes({ filters: { label: [`berth.app=${app}`] } })).Volumes ?? []).length, 0);

    const paths = await waitFor('the new app\'s request in its history', async () => {
      const items = ((await gw.api('GET', `/v1/apps/${app}/history`)).json.items as Array<{ path: string }>).map((i) => i.path);
      return items.includes(`/s/${app}/new`) && items;
    });
    assert.ok(!paths.includes(`/s/${app}/old`), `the deleted app's request is not the new one's: ${paths.join(' ')}`);

    // A handle kept per cycle would show as CYCLES more; a few come and go with the pools.
    assert.ok(fds() <= fdsBefore + 3, `open files ${fdsBefore} before the cycles, ${fds()} after`);
  });
});
