// Input JSON (by env, file and URL), the input size limit, and resource limits with
// gateway defaults, against the real engine.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type Docker from 'dockerode';
import { appPath, testAppYaml } from '../support/app-spec.js';
import { cleanupByLabel, testDocker, testRun } from '../support/docker-cleanup.js';
import { GatewayHarness } from '../support/gateway-harness.js';

const run = testRun();
const names = {
  env: `inenv${run.id}`,
  file: `infile${run.id}`,
  url: `inurl${run.id}`,
  limited: `inlim${run.id}`,
};
const MiB = 2 ** 20;
const data = { user: 'alice', ids: [1, 2, 3], nested: { ok: true, text: 'wörld "quoted"' } };
/** What berth hands over: canonical JSON (keys sorted). */
const canonical = '{"ids":[1,2,3],"nested":{"ok":true,"text":"wörld \\"quoted\\""},"user":"alice"}';
const inputYaml = (as: string, extra = '') => `input:\n  as: ${as}\n  data: ${JSON.stringify(data)}\n${extra}`;

/** The one container of an app in this run. */
async function inspectApp(app: string): Promise<Docker.ContainerInspectInfo> {
  const docker = testDocker();
  const list = await docker.listContainers({ all: true, filters: { label: [run.label, `berth.app=${app}`] } });
  assert.equal(list.length, 1, `one container of ${app}`);
  return docker.getContainer(list[0]!.Id).inspect();
}

describe('input JSON and resources', () => {
  let h: GatewayHarness;

  before(async () => {
    h = await GatewayHarness.create(run.labels);
    await h.writeConfig('limits:\n  inputBytes: 4096\ndefaults:\n  resources: {memory: 256m, cpus: 0.5, pids: 200}\n');
    await h.writeApp('env.yaml', testAppYaml(names.env, inputYaml('env')));
    await h.writeApp('file.yaml', testAppYaml(names.file, inputYaml('file', '  path: /run/berth/input.json\n')));
    await h.writeApp('url.yaml', testAppYaml(names.url, inputYaml('url', '  env: INPUT_URL\n')));
    await h.writeApp('limited.yaml', testAppYaml(names.limited, 'resources: {memory: 128m, pids: 64}\n'));
    await h.start();
  });

  after(async () => {
    await h.dispose();
    await cleanupByLabel(run.label);
  });

  test('input by env arrives in the variable, as canonical JSON', async () => {
    const reply = await h.get(appPath(names.env, '/env'));
    assert.equal(reply.status, 200);
    const env = JSON.parse(reply.body) as Record<string, string>;
    assert.equal(env.BERTH_INPUT, canonical);
    assert.deepEqual(JSON.parse(env.BERTH_INPUT!), data);
  });

  test('input by file is a read-only root-owned file at input.path, named by BERTH_INPUT_FILE', async () => {
    const env = JSON.parse((await h.get(appPath(names.file, '/env'))).body) as Record<string, string>;
    assert.equal(env.BERTH_INPUT_FILE, '/run/berth/input.json');
    assert.equal(env.BERTH_INPUT, undefined);
    const file = await h.get(appPath(names.file, `/file?path=${encodeURIComponent('/run/berth/input.json')}`));
    assert.equal(file.status, 200, file.body);
    assert.equal(file.body, canonical);
    assert.equal(file.headers['x-file-mode'], '444');
    assert.equal(file.headers['x-file-uid'], '0');
    const info = await inspectApp(names.file);
    assert.ok(!info.Config.Env.some((e) => e.startsWith('BERTH_INPUT=')));
  });

  test('input by URL: the app gets a signed URL; the proxy serves the JSON for its secret and 403 otherwise', async () => {
    const env = JSON.parse((await h.get(appPath(names.url, '/env'))).body) as Record<string, string>;
    const url = new URL(env.INPUT_URL!);
    assert.equal(url.hostname, 'host.docker.internal');
    assert.equal(url.port, String(h.port));
    assert.equal(url.pathname, `/_berth/input/${names.url}`);
    const secret = url.searchParams.get('secret') ?? '';
    assert.match(secret, /^[0-9a-f]{64}$/);
    // The container would need the proxy on a reachable address; the test fetches from the host.
    const ok = await h.get(`${url.pathname}?secret=${secret}`);
    assert.equal(ok.status, 200, ok.body);
    assert.equal(ok.headers['content-type'], 'application/json');
    assert.equal(ok.body, canonical);
    const wrong = await h.get(`${url.pathname}?secret=${'0'.repeat(64)}`);
    assert.equal(wrong.status, 403);
    assert.equal((await h.get(url.pathname)).status, 403);
    // Another app's URL with this secret opens nothing.
    assert.equal((await h.get(`/_berth/input/${names.env}?secret=${secret}`)).status, 403);
    const info = await inspectApp(names.url);
    assert.deepEqual(info.HostConfig.ExtraHosts, ['host.docker.internal:host-gateway']);
  });

  test('an input over limits.inputBytes is refused with 422 naming input, and nothing is created', async () => {
    const name = `inbig${run.id}`;
    const body = testAppYaml(name, `input:\n  data: ${JSON.stringify({ blob: 'x'.repeat(5000) })}\n`);
    const reply = await h.api('POST', '/v1/apps', { body, contentType: 'application/yaml' });
    assert.equal(reply.status, 422, reply.text);
    const problems = reply.json.problems as Array<{ path: string; message: string }>;
    assert.equal(problems.length, 1, reply.text);
    assert.match(problems[0]!.path, /input\.data$/);
    assert.match(problems[0]!.message, /5011 bytes .* limit of 4096 bytes/);
    assert.equal((await h.api('GET', `/v1/apps/${name}`)).status, 404);
    const containers = await testDocker().listContainers({ all: true, filters: { label: [run.label, `berth.app=${name}`] } });
    assert.equal(containers.length, 0);
  });

  test('memory, CPU and PID limits are visible in docker inspect: the app’s own, else the gateway defaults', async () => {
    await h.get(appPath(names.limited, '/ping')); // wakes it; limits are set at create anyway
    const limited = await inspectApp(names.limited);
    assert.equal(limited.HostConfig.Memory, 128 * MiB);
    assert.equal(limited.HostConfig.NanoCpus, 500_000_000);
    assert.equal(limited.HostConfig.PidsLimit, 64);
    const defaulted = await inspectApp(names.env);
    assert.equal(defaulted.HostConfig.Memory, 256 * MiB);
    assert.equal(defaulted.HostConfig.NanoCpus, 500_000_000);
    assert.equal(defaulted.HostConfig.PidsLimit, 200);
    // The limits hold in the running container's cgroup as well.
    assert.equal(limited.State.Running, true);
  });
});
