import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { berth, berthJson, cliEnv, errorLine, spawnBerth } from '../support/berth-cli.js';
import { cleanupByLabel, testDocker, testRun } from '../support/docker-cleanup.js';
import { GatewayHarness } from '../support/gateway-harness.js';
import { APP_IMAGE } from '../support/images.js';
import { waitFor } from '../support/wait-for.js';

/** How the CLI prints a start time: `612 ms` below a second, `1.4 s` up to a minute (preciseDuration). */
const READY_TIME = String.raw`(?:\d+ ms|\d+\.\d s)`;

const run = testRun();
const sws = `sws-${run.id}`;
const DOMAIN = 'example.com';

/** Seed 003's SWS example, exactly as its README writes it (with the `bar: bar` typo). */
const SWS_AS_WRITTEN = `apiVersion: v1
spec:
  name: service-name
  port: 8081
  domain: example.com
  image: my-repo/my-image:somve-version
  volumeMount: /foo/bar
  env:
    - name: KEY_1
      value: foo
    - name: KEY_2
      bar: bar
`;

/** The same example with the typo corrected, on the local test image (nothing can be pulled) and a name unique to this run. */
function swsExample(key1 = 'foo'): string {
  return SWS_AS_WRITTEN.replace('name: service-name', `name: ${sws}`)
    .replace('port: 8081', 'port: 8080')
    .replace('my-repo/my-image:somve-version', APP_IMAGE)
    .replace('value: foo', `value: ${key1}`)
    .replace('bar: bar', 'value: bar');
}

function berthV1(name: string): string {
  return `apiVersion: berth/v1\nname: ${name}\nimage: ${APP_IMAGE}\nport: 8080\nreadiness: {path: /healthz}\n`;
}

describe('berth CLI: apply, ls, get, logs, history, delete against a gateway on the real engine', { timeout: 180_000 }, () => {
  let h: GatewayHarness;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    h = await GatewayHarness.create(run.labels);
    await h.writeConfig();
    await h.start();
    env = cliEnv({ BERTH_URL: h.adminUrl, BERTH_TOKEN: h.adminToken, XDG_CONFIG_HOME: join(h.dir, 'xdg') });
  });

  after(async () => {
    await h?.dispose();
    await cleanupByLabel(run.label);
  });

  test('apply refuses the SWS example exactly as written, naming env[1], and applies nothing', async () => {
    await writeFile(join(h.dir, 'sws-as-written.yaml'), SWS_AS_WRITTEN);
    const result = await berth(['apply', '-f', join(h.dir, 'sws-as-written.yaml')], env);
    assert.equal(result.code, 2, result.stderr);
    const line = errorLine(result);
    assert.match(line, /sws-as-written\.yaml: /);
    assert.match(line, /spec\.env\[1\]/);
    assert.equal(result.stdout, '');
    assert.deepEqual(await berthJson(['ls'], env), []);
  });

  test('apply creates the corrected SWS example; the same spec again is unchanged', async () => {
    const file = join(h.dir, 'sws.yaml');
    await writeFile(file, swsExample());
    const first = await berth(['apply', '-f', file], env);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, `${sws} created (revision 1)\n`);
    const again = await berth(['apply', '-f', file], env);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, `${sws} unchanged (revision 1)\n`);
  });

  test('apply --dry-run prints the diff and changes nothing', async () => {
    const file = join(h.dir, 'sws-changed.yaml');
    await writeFile(file, swsExample('baz'));
    const result = await berth(['apply', '-f', file, '--dry-run'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^${sws} would be updated \\(revision 1 → 2\\)\n  ~ env\\.KEY_1: "foo" → "baz"\n$`));
    assert.match(result.stderr, /dry run: nothing was changed/);
    const app = await berthJson(['get', sws], env);
    assert.equal(app.revision, 1);
    assert.equal(app.spec.env.KEY_1, 'foo');
  });

  test('ls shows the app in an aligned table, without colour when stdout is not a terminal', async () => {
    const result = await berth(['ls'], env);
    assert.equal(result.code, 0, result.stderr);
    const [header, ...rows] = result.stdout.trimEnd().split('\n');
    assert.match(header!, /^NAME +STATE +ROUTES +INSTANCES +LAST-REQUEST +IDLE-IN$/);
    const row = rows.find((r) => r.startsWith(`${sws} `));
    assert.ok(row, result.stdout);
    assert.match(row, new RegExp(`^${sws} +stopped +${DOMAIN} +0/1 +\\S+( ago)? +-$`));
    // Aligned: every column starts where its header does.
    assert.equal(row.indexOf(DOMAIN), header!.indexOf('ROUTES'));
    assert.doesNotMatch(result.stdout, /\x1b\[/);
  });

  test('get -o json and -o yaml parse; get alone prints a summary', async () => {
    const app = await berthJson(['get', sws], env);
    assert.equal(app.name, sws);
    assert.equal(app.source, 'api');
    assert.deepEqual(app.spec.env, { KEY_1: 'foo', KEY_2: 'bar' });
    assert.equal(app.spec.volume, '/foo/bar');
    assert.equal(app.routes[0].host, DOMAIN);
    const yaml = await berth(['get', sws, '-o', 'yaml'], env);
    assert.equal(yaml.code, 0, yaml.stderr);
    assert.equal((parseYaml(yaml.stdout) as { name: string }).name, sws);
    const summary = await berth(['get', sws], env);
    assert.equal(summary.code, 0, summary.stderr);
    assert.match(summary.stdout, new RegExp(`^Name: +${sws}$`, 'm'));
    assert.match(summary.stdout, new RegExp(`^Routes: +http://${DOMAIN}:${h.port}/$`, 'm'));
    assert.match(summary.stdout, new RegExp(`^Volume: +berth-${sws}-data mounted at /foo/bar$`, 'm'));
  });

  test('start waits until the app is ready and says how long it took', async () => {
    const result = await berth(['start', sws], env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^${sws}: ready in ${READY_TIME}\n$`));
    assert.match(result.stderr, /starting…/);
    assert.equal((await berthJson(['get', sws], env)).state, 'running');
  });

  test('logs -f shows a line the app prints and keeps following until interrupted', async () => {
    const follow = spawnBerth(['logs', sws, '-f'], env);
    try {
      await waitFor('the app\'s startup line in berth logs -f', () => follow.stdout().includes('test app: listening on :8080'), { timeoutMs: 15_000 });
      // Following: the stream stays open after what there was to read.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(follow.child.exitCode, null, `logs -f ended by itself: ${follow.stderr()}`);
      follow.child.kill('SIGINT');
      const result = await Promise.race([
        follow.exited,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('logs -f did not end within 5 s of SIGINT')), 5_000)),
      ]);
      assert.equal(result.code, 130);
      assert.equal(result.stderr, '');
    } finally {
      follow.child.kill('SIGKILL');
    }
    const tail = await berth(['logs', sws, '--tail', '1'], env);
    assert.equal(tail.code, 0, tail.stderr);
    assert.equal(tail.stdout.trimEnd().split('\n').length, 1);
  });

  test('history shows the requests made through the proxy', async () => {
    for (const path of ['/ping', '/ping', '/status/503']) {
      const reply = await h.get(path, { host: DOMAIN });
      assert.equal(reply.status, path === '/ping' ? 200 : 503);
    }
    // The history is written in batches (every 250 ms).
    const page = await waitFor('3 requests in the history', async () => {
      const p = await berthJson<{ items: Array<{ path: string; status: number; method: string }> }>(['history', sws], env);
      return p.items.length >= 3 && p;
    });
    assert.deepEqual(page.items.slice(0, 3).map((r) => `${r.method} ${r.path} ${r.status}`), ['GET /status/503 503', 'GET /ping 200', 'GET /ping 200']);

    const table = await berth(['history', sws], env);
    assert.equal(table.code, 0, table.stderr);
    const [header, ...rows] = table.stdout.trimEnd().split('\n');
    assert.match(header!, /^TIME +METHOD +PATH +STATUS +DURATION +BYTES +WAITED$/);
    assert.match(rows[0]!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +GET +\/status\/503 +503 +\d+(\.\d)? m?s +\d+(\.\d)? (B|KiB) +(yes|no)$/);

    const errors = await berthJson<{ items: Array<{ status: number }> }>(['history', sws, '--status', '5xx', '--since', '1h'], env);
    assert.deepEqual(errors.items.map((r) => r.status), [503]);
    const limited = await berth(['history', sws, '--limit', '1'], env);
    assert.equal(limited.code, 0, limited.stderr);
    assert.equal(limited.stdout.trimEnd().split('\n').length, 2);
    assert.match(limited.stderr, new RegExp(`^more: berth history ${sws} --limit 1 --cursor \\S+\n$`));
  });

  test('apply -f DIR applies its files in name order as one set, and --wait shows each app getting ready', async () => {
    const dir = join(h.dir, 'specs');
    await mkdir(dir);
    const [a, b] = [`dir-a-${run.id}`, `dir-b-${run.id}`];
    await writeFile(join(dir, '20-b.yaml'), berthV1(b));
    await writeFile(join(dir, '10-a.json'), JSON.stringify({ apiVersion: 'berth/v1', name: a, image: APP_IMAGE, port: 8080, readiness: { path: '/healthz' } }));
    await writeFile(join(dir, 'notes.txt'), 'not a spec');
    const result = await berth(['apply', '-f', dir, '--wait'], env, { timeoutMs: 90_000 });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^${a} created \\(revision 1\\)\n${b} created \\(revision 1\\)\n${a}: ready in ${READY_TIME}\n${b}: ready in ${READY_TIME}\n$`));
    assert.match(result.stderr, new RegExp(`${a}: starting…\n${b}: starting…`));
    const states = (await berthJson<Array<{ name: string; state: string }>>(['ls'], env)).filter((x) => x.name === a || x.name === b).map((x) => x.state);
    assert.deepEqual(states, ['running', 'running']);

    const stdin = await berth(['apply', '-f', '-'], env, { input: berthV1(b) });
    assert.equal(stdin.code, 0, stdin.stderr);
    assert.equal(stdin.stdout, `${b} unchanged (revision 1)\n`);
  });

  test('apply -f DIR with one bad file names that file and applies none of them', async () => {
    const dir = join(h.dir, 'specs-bad');
    await mkdir(dir);
    const good = `good-${run.id}`;
    await writeFile(join(dir, 'a-good.yaml'), berthV1(good));
    await writeFile(join(dir, 'b-bad.yaml'), berthV1(`bad-${run.id}`).replace('port: 8080', 'port: 99999'));
    const result = await berth(['apply', '-f', dir], env);
    assert.equal(result.code, 2, result.stderr);
    assert.match(errorLine(result), /b-bad\.yaml: port: /);
    const get = await berth(['get', good], env);
    assert.equal(get.code, 3, 'nothing of the set was applied');
  });

  test('delete removes the container and keeps the volume', async () => {
    const docker = testDocker();
    const filters = { label: [`berth.app=${sws}`, run.label] };
    assert.equal((await docker.listContainers({ all: true, filters })).length, 1);
    const result = await berth(['delete', sws], env);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${sws} deleted, volume berth-${sws}-data kept (--purge-volumes removes it)\n`);
    await waitFor('the container to be removed', async () => (await docker.listContainers({ all: true, filters })).length === 0);
    const volume = await docker.getVolume(`berth-${sws}-data`).inspect();
    assert.equal(volume.Labels?.['berth.app'], sws);
    const get = await berth(['get', sws], env);
    assert.equal(get.code, 3);
    assert.equal(errorLine(get), `berth: no app named ${sws}`);
  });

  test('errors are one line on stderr with distinct exit codes', async () => {
    const unknown = await berth(['get', `nope-${run.id}`], env);
    assert.equal(unknown.code, 3);
    errorLine(unknown);

    const wrongToken = await berth(['ls'], { ...env, BERTH_TOKEN: 'not-the-token' });
    assert.equal(wrongToken.code, 5);
    assert.match(errorLine(wrongToken), /refused the token \(token from BERTH_TOKEN\)/);
    assert.doesNotMatch(wrongToken.stderr, /not-the-token/, 'the token itself is never printed');

    const unreachable = await berth(['ls'], { ...env, BERTH_URL: 'http://127.0.0.1:9' });
    assert.equal(unreachable.code, 6);
    assert.match(errorLine(unreachable), /cannot reach the berth API at http:\/\/127\.0\.0\.1:9: connection refused/);

    const usage = await berth(['get'], env);
    assert.equal(usage.code, 2);
    assert.match(errorLine(usage), /missing required argument 'name'/);

    const badOutput = await berth(['ls', '-o', 'xml'], env);
    assert.equal(badOutput.code, 2);
    errorLine(badOutput);

    const badStatus = await berth(['history', `dir-a-${run.id}`, '--status', 'teapot'], env);
    assert.equal(badStatus.code, 2);
    assert.match(errorLine(badStatus), /status/);
  });
});
