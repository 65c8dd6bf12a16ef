import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { berth, berthJson, cliEnv } from '../support/berth-cli.js';
import { cleanupByLabel, testDocker, testRun } from '../support/docker-cleanup.js';
import { GatewayHarness } from '../support/gateway-harness.js';
import { APP_IMAGE } from '../support/images.js';
import { waitFor } from '../support/wait-for.js';

const run = testRun();
/** The seed's `$1`; unique per run so parallel runs never share a container name. */
const n = `1-${run.id}`;
const network = `traefiknet-${run.id}`;
const minion = `minion-${n}`;

/**
 * Seed 000's body for `create-minions.sh`, with `$1` filled in. What differs
 * from the seed: the image is the local test app (minionapp:latest does not
 * exist here), the network carries this run's id, IDLE is 2s instead of 1m to
 * keep the test short, and a Traefik service port label says the app's port,
 * which Traefik would have read from the image's EXPOSE.
 */
function seedBody(): string {
  return JSON.stringify({
    name: `minion-${n}`,
    network,
    image: APP_IMAGE,
    labels: {
      'traefik.enable': 'true',
      [`traefik.http.routers.minion-${n}.entrypoints`]: 'web',
      [`traefik.http.routers.minion-${n}.rule`]: `PathPrefix("/session/minion-${n}/")`,
      [`traefik.http.services.minion-${n}.loadbalancer.server.port`]: '8080',
    },
    envs: { CONNSTR: `db ${n}`, IDLE: '2s' },
  });
}

describe('cntSpawner POST /v1/, then the app served, idle-stopped and woken, watched with the CLI', { timeout: 120_000 }, () => {
  let h: GatewayHarness;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    await testDocker().createNetwork({ Name: network, Labels: run.labels });
    h = await GatewayHarness.create(run.labels);
    // The harness's config, plus the network the seed's body asks for.
    await writeFile(h.configFile, `listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nstore: ./berth.db\npolicy:\n  images: ["berth-test/*"]\n  networks: [${network}]\napps:\n  - ./apps/\n`);
    await h.start();
    env = cliEnv({ BERTH_URL: h.adminUrl, BERTH_TOKEN: h.adminToken, XDG_CONFIG_HOME: join(h.dir, 'xdg') });
  });

  after(async () => {
    await h?.dispose();
    await cleanupByLabel(run.label);
  });

  test('POST /v1/ with the seed 000 body creates the app and answers its URL', async () => {
    const res = await fetch(`${h.adminUrl}/v1/`, { method: 'POST', headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json' }, body: seedBody() });
    assert.equal(res.status, 201);
    const body = (await res.json()) as { name: string; url: string; action: string };
    assert.equal(body.name, minion);
    assert.equal(body.action, 'created');
    assert.equal(body.url, `http://127.0.0.1:${h.port}/session/${minion}/`);

    const app = await berthJson(['get', minion], env);
    assert.equal(app.spec.idleTimeoutMs, 2000);
    assert.equal(app.spec.env.CONNSTR, `db ${n}`);
    assert.equal(app.spec.network, network);
    assert.deepEqual(app.routes.map((r: { path: string; stripPrefix: boolean }) => [r.path, r.stripPrefix]), [[`/session/${minion}/`, false]]);

    const again = await fetch(`${h.adminUrl}/v1/`, { method: 'POST', headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json' }, body: seedBody() });
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as { action: string }).action, 'unchanged');
  });

  test('/session/minion-N/ping is served through the proxy, with the whole path as Traefik passed it', async () => {
    const reply = await h.get(`/session/${minion}/ping`);
    assert.equal(reply.status, 200, reply.body);
    // The test app echoes what it received: the minion saw /session/<name>/ping, as behind Traefik's PathPrefix (no strip).
    assert.equal((JSON.parse(reply.body) as { path: string }).path, `/session/${minion}/ping`);
    const ls = await berth(['ls'], env);
    // Listed (its state may already have moved on: IDLE is 2s).
    assert.match(ls.stdout, new RegExp(`^${minion} +\\S+ +/session/${minion}/ +[01]/1 `, 'm'));
  });

  test('after IDLE without requests the app is stopped, its container kept', async () => {
    await waitFor('the minion to be stopped for idleness', async () => (await berthJson(['get', minion], env)).state === 'stopped', { timeoutMs: 20_000, intervalMs: 250 });
    const [container] = await testDocker().listContainers({ all: true, filters: { label: [`berth.app=${minion}`, run.label] } });
    assert.ok(container, 'the container is kept');
    assert.notEqual(container.State, 'running');
    const ls = await berth(['ls'], env);
    assert.match(ls.stdout, new RegExp(`^${minion} +stopped +/session/${minion}/ +0/1 +\\S+ ago +-$`, 'm'));
  });

  test('the next request wakes it, and the history shows that request waited for the start', async () => {
    const reply = await h.get(`/session/${minion}/ping`);
    assert.equal(reply.status, 200, reply.body);
    assert.equal((await berthJson(['get', minion], env)).state, 'running');
    const page = await waitFor('2 requests in the history', async () => {
      const p = await berthJson<{ items: Array<{ path: string; waited: boolean; status: number }> }>(['history', minion], env);
      return p.items.length >= 2 && p;
    });
    assert.deepEqual(page.items.map((r) => [r.path, r.status, r.waited]), [
      [`/session/${minion}/ping`, 200, true],
      [`/session/${minion}/ping`, 200, true],
    ]);
  });
});
