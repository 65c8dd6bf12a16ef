// The bind-mount rule on the real engine follows where paths lead, not what they
// say: a link inside an allowed root that points outside is refused at apply,
// and an allowed root swapped for a link to "/" after apply stops the next start
// (the host's /etc is never mounted). The container is made from the real path.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, realpath, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { appPath, testAppYaml } from '../support/app-spec.js';
import { inspectAppContainer } from '../support/app-container.js';
import { cleanupByLabel, testDocker, testRun } from '../support/docker-cleanup.js';
import { GatewayHarness } from '../support/gateway-harness.js';
import { timedGet } from '../support/http-requests.js';
import { waitFor } from '../support/wait-for.js';

const run = testRun();
const T = { timeout: 30_000 };

describe('bind mounts are checked by their real paths', () => {
  let h: GatewayHarness;
  let root: string;
  let outside: string;
  const status = (app: string) => h.gateway?.statuses().find((s) => s.name === app);
  const apply = (yaml: string) => h.api('POST', '/v1/apps', { body: yaml, contentType: 'application/yaml' });
  const containersOf = (app: string) => testDocker().listContainers({ all: true, filters: { label: [`berth.app=${app}`] } });

  before(async () => {
    h = await GatewayHarness.create(run.labels);
    root = join(await realpath(h.dir), 'allowed');
    outside = join(await realpath(h.dir), 'outside');
    await mkdir(join(root, 'etc'), { recursive: true });
    await mkdir(outside);
    await writeFile(join(root, 'etc', 'hello.txt'), `inside ${run.id}`);
    await writeFile(join(outside, 'secret.txt'), 'must never be mounted');
    await writeFile(
      h.configFile,
      `listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nstore: ./berth.db\npolicy:\n  images: ["berth-test/*"]\n  bindMountRoots: [${JSON.stringify(root)}]\napps:\n  - ./apps/\n`,
    );
    await h.start();
  });

  after(async () => {
    await h?.dispose();
    await cleanupByLabel(run.label);
  });

  test('a link inside the root that leads outside, and a missing source, are refused at apply with 403 naming the field', T, async () => {
    await symlink(outside, join(root, 'escape'));
    const cases = [
      { what: 'a link to a directory outside', source: join(root, 'escape') },
      { what: 'a path through a link outside', source: join(root, 'escape', 'sub') },
      { what: 'a missing source', source: join(root, 'missing') },
    ];
    for (const [i, c] of cases.entries()) {
      const name = `bm${run.id}-deny${i}`;
      const reply = await apply(testAppYaml(name, `mounts: [{source: ${JSON.stringify(c.source)}, target: /shared, readOnly: true}]\n`));
      assert.equal(reply.status, 403, `${c.what}: ${reply.text}`);
      assert.equal(reply.json.code, 'policy_denied', c.what);
      const paths: string[] = reply.json.problems.map((p: { path: string }) => p.path);
      assert.equal(paths.length, 1, `${c.what}: ${paths.join(', ')}`);
      assert.match(paths[0]!, /mounts(\[0\]|\.0)\.source$/, c.what);
      assert.deepEqual(await containersOf(name), [], `${c.what}: no container`);
    }
    await rm(join(root, 'escape'));
  });

  test('a root swapped for a link to "/" after apply is refused at the next start', T, async () => {
    const name = `bm${run.id}-swap`;
    const source = join(root, 'etc');
    const created = await apply(testAppYaml(name, `idleTimeout: 1s\nmounts: [{source: ${JSON.stringify(source)}, target: /shared, readOnly: true}]\n`));
    assert.equal(created.status, 200, created.text);
    const served = await timedGet(h.port, appPath(name, '/file?path=/shared/hello.txt'));
    assert.equal(served.body, `inside ${run.id}`, 'the allowed mount works');
    const info = await inspectAppContainer(name, run.label);
    assert.ok(info?.HostConfig.Mounts?.some((m) => m.Type === 'bind' && m.Source === source), 'the container is made from the real path');
    await waitFor('the idle stop', () => status(name)?.state === 'stopped', { timeoutMs: 6_000 });
    const startedAt = (await inspectAppContainer(name, run.label))?.State.StartedAt;

    const moved = `${root}.orig`;
    await rename(root, moved);
    await symlink('/', root);
    try {
      const refused = await timedGet(h.port, appPath(name, '/file?path=/shared/hostname'), { timeoutMs: 10_000 });
      assert.ok(refused.status >= 500, `the start is refused: ${refused.status} ${refused.body.slice(0, 200)}`);
      assert.doesNotMatch(refused.body, /localhost|127\.0\.0\.1/, "the host's /etc was not served");
      const after = await inspectAppContainer(name, run.label);
      assert.notEqual(after?.State.Status, 'running', 'the container was not started');
      assert.equal(after?.State.StartedAt, startedAt, 'not even briefly');
    } finally {
      await rm(root);
      await rename(moved, root);
    }
    // With the root back, the app starts again.
    await waitFor('the app to start again', async () => (await timedGet(h.port, appPath(name, '/file?path=/shared/hello.txt'))).status === 200, { timeoutMs: 15_000, intervalMs: 500 });
  });
});
