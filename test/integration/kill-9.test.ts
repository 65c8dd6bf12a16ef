// `berth serve` with `workers: 2` killed with -9 mid cold start, on the real engine:
// its workers go with it, the next gateway on the same data dir declares the app the
// API acknowledged, adopts the container the killed one started (none made beside
// it) and serves it.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupByLabel, testDocker, testRun } from '../support/docker-cleanup.js';
import { GatewayProcess, workerPids } from '../support/gateway-process.js';
import { testAppJson } from '../support/app-spec.js';
import { timedGet } from '../support/http-requests.js';
import { waitFor } from '../support/wait-for.js';

const run = testRun();
const app = `k9${run.id}-web`;
const runLabel = `berth-test-run=${run.id}`;

/** The app's containers as the engine lists them (all states). */
async function containersOf(name: string) {
  return testDocker().listContainers({ all: true, filters: { label: [`berth.app=${name}`] } });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('kill -9 of the gateway', () => {
  let gw: GatewayProcess | undefined;
  after(async () => {
    await gw?.dispose();
    await cleanupByLabel(runLabel);
  });

  test('mid cold start, with two proxy workers: the next gateway keeps the app and adopts its one container', { timeout: 60_000 }, async (t) => {
    const t0 = performance.now();
    const mark = (what: string) => t.diagnostic(`${what}: ${Math.round(performance.now() - t0)} ms`);
    gw = await GatewayProcess.start({ extraConfig: 'workers: 2\n', apps: {} });
    gw.appNames.push(app);
    const control = gw.pid!;
    await waitFor('two workers', () => workerPids(control).length === 2, { timeoutMs: 10_000 });
    const workers = workerPids(control);
    mark('started');
    const applied = await gw.api('POST', '/v1/apps', testAppJson(app, { 'berth-test': 'true', 'berth-test-run': run.id }, { env: { READY_DELAY_MS: '1500' } }));
    assert.equal(applied.status, 200, JSON.stringify(applied.json));
    // A request wakes it; the gateway is killed once the container runs, before it is ready.
    const first = timedGet(gw.proxyPort, `/s/${app}/ping`, { timeoutMs: 10_000 }).catch(() => undefined);
    await waitFor('the container runs', async () => (await containersOf(app)).some((c) => c.State === 'running'), { timeoutMs: 10_000 });
    mark('container running');
    process.kill(control, 'SIGKILL');
    await first;
    await waitFor('the workers are gone with it', () => workers.every((w) => !alive(w)), { timeoutMs: 5_000 });
    await gw.settle(2_000);
    mark('workers gone');
    await gw.respawnIfDead();
    mark('restarted');
    const shown = await gw.api('GET', `/v1/apps/${app}`);
    assert.equal(shown.status, 200);
    assert.equal(shown.json.revision, 1);
    assert.equal((await timedGet(gw.proxyPort, `/s/${app}/ping`, { timeoutMs: 10_000 })).status, 200);
    mark('served');
    assert.equal((await containersOf(app)).length, 1, 'the killed gateway\'s container was adopted, none made beside it');
    assert.equal((await gw.api('GET', `/v1/apps/${app}`)).json.state, 'running');
  });
});
