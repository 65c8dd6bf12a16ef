// Desired state is durable and honest, on the real engine: a scale survives a
// restart, a delete interrupted before its containers went is finished at the next
// start, this store's orphans are removed while another store's containers are
// never touched, an empty store file beside berth's containers refuses to boot, and
// a start that fails partway closes what it opened.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DockerRuntime } from '../../src/runtime/docker/docker-runtime.js';
import { LABEL_STORE } from '../../src/runtime/runtime.js';
import { parseSpecText } from '../../src/spec/index.js';
import { testAppYaml } from '../support/app-spec.js';
import { cleanupByLabel, testDocker, testRun } from '../support/docker-cleanup.js';
import { GatewayHarness } from '../support/gateway-harness.js';
import { waitFor } from '../support/wait-for.js';

const run = testRun();
const T = { timeout: 40_000 };
const web = `ds${run.id}`;
const gone = `dg${run.id}`;

describe('desired state: durable and honest', () => {
  let h: GatewayHarness;
  const apply = (yaml: string) => h.api('POST', '/v1/apps', { body: yaml, contentType: 'application/yaml' });
  const containersOf = async (app: string) => testDocker().listContainers({ all: true, filters: { label: [`berth.app=${app}`, run.label] } });
  const db = () => join(h.dir, 'berth.db');

  before(async () => {
    h = await GatewayHarness.create(run.labels);
    await h.writeConfig();
    await h.start();
    assert.equal((await apply(testAppYaml(web, 'scale: {min: 0, max: 3}\n'))).status, 200);
    assert.equal((await apply(testAppYaml(gone))).status, 200);
  });

  after(async () => {
    await h?.dispose();
    await cleanupByLabel(run.label);
  });

  test('every container carries the store identity', T, async () => {
    const [c] = await containersOf(web);
    assert.ok(c, 'the app has its container');
    assert.match(c.Labels[LABEL_STORE] ?? '', /^[0-9a-f-]{36}$/);
  });

  test('berth scale survives a gateway restart', T, async () => {
    const scaled = await h.api('POST', `/v1/apps/${web}/scale`, { body: JSON.stringify({ replicas: 2 }) });
    assert.equal(scaled.status, 200, scaled.text);
    await h.stop();
    await h.start();
    const status = h.gateway!.statuses().find((s) => s.name === web);
    assert.equal(status?.replicas, 2, JSON.stringify(status));
    assert.equal((await h.api('POST', `/v1/apps/${web}/scale`, { body: JSON.stringify({ replicas: 9 }) })).status, 422);
  });

  test('a delete interrupted before its containers went is finished at the next start', T, async () => {
    assert.equal((await containersOf(gone)).length, 1);
    await h.stop();
    // What a kill -9 right after the DELETE's store write leaves: the tombstone, and the container.
    const raw = new Database(db());
    raw.prepare('UPDATE apps SET deleted_at = ? WHERE name = ?').run(Date.now(), gone);
    raw.close();
    await h.start();
    assert.deepEqual(await containersOf(gone), [], 'the container is gone');
    const left = new Database(db(), { readonly: true });
    const row = left.prepare('SELECT count(*) AS n FROM apps WHERE name = ?').get(gone) as { n: number };
    left.close();
    assert.equal(row.n, 0, 'and so is the tombstone');
  });

  test("this store's orphans are removed; another store's containers are never touched", T, async () => {
    const orphan = `do${run.id}`;
    const stranger = `dx${run.id}`;
    const storeId = (await containersOf(web))[0]!.Labels[LABEL_STORE]!;
    const [orphanSpec] = parseSpecText(testAppYaml(orphan), 'test');
    const [strangerSpec] = parseSpecText(testAppYaml(stranger), 'test');
    // As if an older berth had deleted the row before the containers: labelled with this store, declared nowhere.
    await new DockerRuntime({ extraLabels: { ...run.labels, [LABEL_STORE]: storeId }, appsNetwork: h.appsNetworkFor() }).ensure(orphanSpec!, 0);
    await new DockerRuntime({ extraLabels: { ...run.labels, [LABEL_STORE]: 'another-store' }, appsNetwork: h.appsNetworkFor() }).ensure(strangerSpec!, 0);
    await h.stop();
    await h.start();
    assert.deepEqual(await containersOf(orphan), [], "this store's orphan went");
    assert.equal((await containersOf(stranger)).length, 1, "another store's container stays");
    // An app of the same name here never takes the other store's container over.
    const clash = await apply(testAppYaml(stranger));
    assert.equal(clash.status, 200, clash.text);
    assert.match(String(clash.json.results[0].error), /belongs to another berth gateway/, clash.text);
    assert.equal((await containersOf(stranger))[0]!.Labels[LABEL_STORE], 'another-store');
    assert.equal((await h.api('DELETE', `/v1/apps/${stranger}`)).status, 200);
    assert.equal((await containersOf(stranger)).length, 1, 'and its delete leaves it too');
  });

  test('an empty store file beside berth-managed containers refuses to boot, naming the file', T, async () => {
    await h.stop();
    const saved = await fs.readFile(db());
    await fs.rm(`${db()}-wal`, { force: true });
    await fs.rm(`${db()}-shm`, { force: true });
    await fs.writeFile(db(), '');
    try {
      await assert.rejects(h.start(), (err: Error) => {
        assert.match(err.message, /berth\.db exists but is empty .*berth-managed container.*restore it from a backup/);
        return true;
      });
      assert.equal((await containersOf(web)).length >= 1, true, 'no container was touched');
    } finally {
      await fs.writeFile(db(), saved);
    }
    await h.start();
    assert.ok(h.gateway!.statuses().some((s) => s.name === web), 'the restored store serves its apps again');
  });

  test('a reload whose config apps clash with API apps is refused whole; the old set keeps serving', T, async () => {
    const clash = `dc${run.id}`;
    // Its route is the API app's: valid alone, refused as a set.
    await h.writeApp('clash.yaml', `apiVersion: berth/v1\nname: ${clash}\nimage: berth-test/app:latest\nport: 8080\nroutes:\n  - path: /s/${web}/\n`);
    try {
      await h.gateway!.reload();
      assert.equal((await h.api('GET', `/v1/apps/${clash}`)).status, 404, 'the clashing app was not stored');
      assert.ok(!h.gateway!.currentConfig!.apps.some((a) => a.name === clash), 'nor the config that declares it committed');
    } finally {
      await fs.rm(join(h.dir, 'apps', 'clash.yaml'), { force: true });
    }
  });

  test('a start that fails partway (its proxy port taken) closes what it opened', T, async () => {
    await h.stop();
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as { port: number }).port;
    const config = await fs.readFile(h.configFile, 'utf8');
    await fs.writeFile(h.configFile, config.replace('listen: 127.0.0.1:0', `listen: 127.0.0.1:${taken}`));
    try {
      const gateway = await h.start().then(
        () => assert.fail('the start should fail'),
        (err: Error) => {
          assert.match(err.message, /in use|EADDRINUSE/i);
          return err;
        },
      );
      assert.ok(gateway);
    } finally {
      blocker.close();
      await fs.writeFile(h.configFile, config);
    }
    // The store was closed: a second start on the same file opens it again and serves.
    await h.start();
    assert.ok(h.gateway!.statuses().some((s) => s.name === web));
  });
});
