import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { berth, cliEnv } from '../support/berth-cli.js';
import { cleanupByLabel, testDocker, testRun } from '../support/docker-cleanup.js';
import { GatewayHarness } from '../support/gateway-harness.js';
import { APP_IMAGE } from '../support/images.js';

const run = testRun();
const app = `secrets${run.id}`;
const rand = () => Math.random().toString(36).slice(2, 10);
// Distinct, searchable values: any of them in an API answer, CLI output or log is a leak.
const literal = `lit-${rand()}`;
const fileValue = `file-${rand()}`;
const envValue = `env-${rand()}`;
const envName = `SECRETTEST_${run.id.replace(/\W/g, '_').toUpperCase()}`;

describe('secret env values, end to end', () => {
  let h: GatewayHarness;
  let secretsDir = '';

  const spec = (lit: string, extra = '') =>
    `apiVersion: berth/v1\nname: ${app}\nimage: ${APP_IMAGE}\nport: 8080\nreadiness: {path: /healthz}\n` +
    `routes:\n  - path: /session/${app}/\n    stripPrefix: true\n` +
    `env:\n  PLAIN: visible\n  LIT: {secret: ${lit}}\n  FILE: {fromFile: ${join(secretsDir, 'db')}}\n  FROMENV: {fromEnv: ${envName}}\n${extra}`;

  const apply = (body: string) => h.api('POST', '/v1/apps', { body, contentType: 'application/yaml' });

  function assertNoSecret(text: string, what: string, values = [literal, fileValue, envValue]): void {
    for (const value of values) assert.ok(!text.includes(value), `${what} shows a secret value: ${text.slice(0, 2000)}`);
  }

  before(async () => {
    h = await GatewayHarness.create(run.labels);
    secretsDir = join(h.dir, 'secrets');
    await mkdir(secretsDir);
    await writeFile(join(secretsDir, 'db'), `${fileValue}\n`, { mode: 0o600 });
    await writeFile(join(h.dir, 'elsewhere'), 'not-for-apps');
    process.env[envName] = envValue;
    await writeFile(
      h.configFile,
      `listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nstore: ./berth.db\npolicy:\n  images: ["berth-test/*"]\n  secretFiles: [./secrets]\n  secretEnv: ["SECRETTEST_*"]\napps:\n  - ./apps/\n`,
    );
    await h.start();
  });

  after(async () => {
    delete process.env[envName];
    await h.dispose();
    await cleanupByLabel(run.label);
  });

  test('apply answers without the values; get and list show the redaction marker and the references', async () => {
    const created = await apply(spec(literal));
    assert.equal(created.status, 200, created.text);
    assert.equal(created.json.results[0].action, 'created');
    assertNoSecret(created.text, 'the apply answer');

    const one = await h.api('GET', `/v1/apps/${app}`);
    assert.equal(one.status, 200);
    assertNoSecret(one.text, 'GET /v1/apps/NAME');
    assert.deepEqual(one.json.spec.env, {
      PLAIN: 'visible',
      LIT: { secret: '<redacted>' },
      FILE: { fromFile: join(secretsDir, 'db') },
      FROMENV: { fromEnv: envName },
    });
    const list = await h.api('GET', '/v1/apps');
    assertNoSecret(list.text, 'GET /v1/apps');
    assert.match(list.text, /<redacted>/);
  });

  test('the container gets the values', async () => {
    const reply = await h.get(`/session/${app}/env`);
    assert.equal(reply.status, 200, reply.body);
    const env = JSON.parse(reply.body) as Record<string, string>;
    assert.equal(env.LIT, literal);
    assert.equal(env.FILE, fileValue, 'the file content, its final newline dropped');
    assert.equal(env.FROMENV, envValue);
    assert.equal(env.PLAIN, 'visible');
  });

  test('the engine has them, but berth shows them nowhere: API, history, CLI', async () => {
    const containers = await testDocker().listContainers({ all: true, filters: { label: [run.label, `berth.app=${app}`] } });
    assert.equal(containers.length, 1);
    const inspected = await testDocker().getContainer(containers[0]!.Id).inspect();
    assert.ok(inspected.Config.Env.includes(`LIT=${literal}`));
    // The labels (spec hash included) carry no value either.
    assertNoSecret(JSON.stringify(inspected.Config.Labels), 'the container labels');

    const history = await h.api('GET', `/v1/apps/${app}/history?since=1h`);
    assertNoSecret(history.text, 'the history');

    const env = cliEnv({ BERTH_URL: h.adminUrl, BERTH_TOKEN: h.adminToken, XDG_CONFIG_HOME: join(h.dir, 'xdg') });
    for (const args of [['get', app, '-o', 'yaml'], ['get', app, '-o', 'json'], ['get', app], ['ls']]) {
      const result = await berth(args, env);
      assert.equal(result.code, 0, result.stderr);
      assertNoSecret(result.stdout + result.stderr, `berth ${args.join(' ')}`);
    }
    const summary = await berth(['get', app], env);
    assert.match(summary.stdout, /LIT=<redacted>/);
    assert.match(summary.stdout, /FILE=\(secret from file /);
  });

  test('the redaction marker coming back is refused, naming the field', async () => {
    const reply = await apply(spec('"<redacted>"'));
    assert.equal(reply.status, 422, reply.text);
    assert.deepEqual(reply.json.problems.map((p: { path: string }) => p.path), ['env.LIT.secret']);
  });

  test('a changed literal is an update whose diff hides both values, and the new container has it', async () => {
    const next = `lit-${rand()}`;
    const updated = await apply(spec(next));
    assert.equal(updated.json.results[0].action, 'updated', updated.text);
    assert.deepEqual(updated.json.results[0].changes, [{ path: 'env.LIT.secret', from: '<redacted>', to: '<redacted>' }]);
    assertNoSecret(updated.text, 'the update answer', [literal, next]);
    const env = JSON.parse((await h.get(`/session/${app}/env`)).body) as Record<string, string>;
    assert.equal(env.LIT, next);
  });

  test('a reference outside the policy is refused with 403 naming the field', async () => {
    const bad = spec(literal).replace(`{fromFile: ${join(secretsDir, 'db')}}`, `{fromFile: ${join(h.dir, 'elsewhere')}}`);
    const reply = await apply(bad);
    assert.equal(reply.status, 403, reply.text);
    assert.equal(reply.json.code, 'policy_denied');
    assert.match(reply.text, /env\.FILE\.fromFile/);
  });

  test('an update to a missing file is rolled back: the running container keeps serving, the reason names the field', async () => {
    const before = JSON.parse((await h.get(`/session/${app}/env`)).body) as Record<string, string>;
    const missing = spec(before.LIT!).replace(`{fromFile: ${join(secretsDir, 'db')}}`, `{fromFile: ${join(secretsDir, 'missing')}}`);
    const reply = await apply(missing);
    assert.equal(reply.status, 502, 'a rolled-back update is a failed apply, stored nowhere');
    assert.match(String(reply.json.detail), /rolled back.*env\.FILE\.fromFile: cannot read .*missing: no such file/, reply.text);
    assertNoSecret(reply.text, 'the rolled-back update', [before.LIT!, fileValue, envValue]);
    const after = JSON.parse((await h.get(`/session/${app}/env`)).body) as Record<string, string>;
    assert.equal(after.FILE, fileValue);
  });

  test('a missing file fails the start with the field, not a value', async () => {
    const other = `${app}b`;
    const body = `apiVersion: berth/v1\nname: ${other}\nimage: ${APP_IMAGE}\nport: 8080\nenv:\n  LIT: {secret: ${literal}}\n  GONE: {fromFile: ${join(secretsDir, 'gone')}}\n`;
    assert.equal((await apply(body)).status, 200);
    const reply = await h.get(`/session/${other}/`);
    assert.ok(reply.status >= 500, `status ${reply.status}`);
    const status = await h.api('GET', `/v1/apps/${other}`);
    assert.match(status.json.status.lastError, /env\.GONE\.fromFile: cannot read .*gone: no such file/);
    assertNoSecret(status.text + reply.body, 'the failed start');
  });
});
