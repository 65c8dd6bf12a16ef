// The CLI's settings (configure, BERTH_URL/BERTH_TOKEN, the settings file), its tokens and
// its version against a whole gateway's admin API. Nothing here starts an app, so the
// gateway runs on the fake engine (FakeGatewayBed): the file runs beside the engine lane,
// not in its one-at-a-time queue.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Gateway } from '../../src/gateway/gateway.js';
import { VERSION } from '../../src/version.js';
import { berth, BERTH_BIN, berthJson, cliEnv, errorLine } from '../support/berth-cli.js';
import { FakeGatewayBed } from '../support/fake-gateway.js';
import { waitFor } from '../support/wait-for.js';

const run = { id: randomBytes(3).toString('hex') };
/** util-linux `script` gives the CLI a terminal, so configure's questions can be tested. */
const hasScript = spawnSync('script', ['--version']).status === 0;

describe('berth CLI: configure, tokens and version', { timeout: 120_000 }, () => {
  let bed: FakeGatewayBed | undefined;
  /** The gateway's temp dir, its admin API and token (what the tests below use of it). */
  let h: { dir: string; adminUrl: string; adminToken: string };
  /** Points at the gateway through the environment. */
  let env: NodeJS.ProcessEnv;
  /** No BERTH_* variables: only what `configure` saved in this XDG_CONFIG_HOME. */
  let bare: NodeJS.ProcessEnv;
  let xdg: string;

  before(async () => {
    bed = await FakeGatewayBed.create();
    const gateway: Gateway = await bed.start();
    h = { dir: bed.dir, adminUrl: `http://127.0.0.1:${gateway.adminAddress!.port}`, adminToken: bed.adminToken };
    xdg = join(h.dir, 'xdg');
    env = cliEnv({ BERTH_URL: h.adminUrl, BERTH_TOKEN: h.adminToken, XDG_CONFIG_HOME: join(h.dir, 'xdg-unused') });
    bare = cliEnv({ XDG_CONFIG_HOME: xdg });
    // An app for `berth ls` to list.
    const applied = await bed.api(gateway, 'POST', '/v1/apps', { apiVersion: 'berth/v1', name: `cfg-${run.id}`, image: 'fake/app:latest', port: 8080 });
    assert.ok(applied.status === 200 || applied.status === 201, JSON.stringify(applied.json));
  });

  after(async () => {
    await bed?.dispose();
  });

  test('configure --url --token checks them, saves them owner-only, and later commands use them', async () => {
    const result = await berth(['configure', '--url', h.adminUrl, '--token', h.adminToken], bare);
    assert.equal(result.code, 0, result.stderr);
    const file = join(xdg, 'berth', 'config.json');
    assert.match(result.stdout, new RegExp(`token accepted by berth ${VERSION.replace(/\./g, '\\.')}`));
    assert.ok(result.stdout.includes(`saved to ${file}`), result.stdout);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(join(xdg, 'berth'))).mode & 0o777, 0o700);
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { url: h.adminUrl, token: h.adminToken });

    const ls = await berth(['ls'], bare);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, new RegExp(`^cfg-${run.id} `, 'm'));
  });

  test('without XDG_CONFIG_HOME the settings live in ~/.config/berth/config.json', async () => {
    const home = join(h.dir, 'home');
    const homeEnv = cliEnv({ HOME: home, XDG_CONFIG_HOME: undefined });
    const result = await berth(['configure', '--url', h.adminUrl, '--token', h.adminToken], homeEnv);
    assert.equal(result.code, 0, result.stderr);
    const file = join(home, '.config', 'berth', 'config.json');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await berth(['ls'], homeEnv)).code, 0);
  });

  test('configure asks for the URL and token on a terminal, and does not echo the token', { skip: !hasScript && 'no util-linux script(1) to give the CLI a terminal' }, async () => {
    const dir = join(h.dir, 'xdg-tty');
    const child = spawn('script', ['-qec', `${process.execPath} ${BERTH_BIN} configure`, '/dev/null'], { env: cliEnv({ XDG_CONFIG_HOME: dir }) });
    let screen = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (screen += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      await waitFor('the URL question', () => screen.includes('berth admin API URL [http://127.0.0.1:8081]: '));
      child.stdin.write(`${h.adminUrl}\r`);
      await waitFor('the token question', () => screen.includes('API token: '));
      child.stdin.write(`${h.adminToken}\r`);
      await waitFor('configure to finish', () => screen.includes('saved to'));
      assert.equal(await exited, 0, screen);
    } finally {
      child.kill('SIGKILL');
    }
    assert.ok(!screen.includes(h.adminToken), `the token was echoed: ${JSON.stringify(screen)}`);
    assert.deepEqual(JSON.parse(await readFile(join(dir, 'berth', 'config.json'), 'utf8')), { url: h.adminUrl, token: h.adminToken });
  });

  test('configure refuses a wrong token (exit 5) and keeps what was saved', async () => {
    const file = join(xdg, 'berth', 'config.json');
    const before = await readFile(file, 'utf8');
    const result = await berth(['configure', '--url', h.adminUrl, '--token', 'wrong-token'], bare);
    assert.equal(result.code, 5);
    assert.match(errorLine(result), /refused the token \(token from --token\)/);
    assert.equal(await readFile(file, 'utf8'), before);
  });

  test('configure with nothing to go on and no terminal to ask on is a usage error', async () => {
    const result = await berth(['configure'], cliEnv({ XDG_CONFIG_HOME: join(h.dir, 'xdg-empty') }));
    assert.equal(result.code, 2);
    assert.match(errorLine(result), /no token: pass --token/);
  });

  test('BERTH_URL and BERTH_TOKEN override the saved settings; --url and --token override both', async () => {
    const wrongEnv = await berth(['ls'], { ...bare, BERTH_TOKEN: 'wrong-token' });
    assert.equal(wrongEnv.code, 5);
    const flagWins = await berth(['ls', '--token', h.adminToken], { ...bare, BERTH_TOKEN: 'wrong-token' });
    assert.equal(flagWins.code, 0, flagWins.stderr);
    const deadUrl = await berth(['ls'], { ...bare, BERTH_URL: 'http://127.0.0.1:9' });
    assert.equal(deadUrl.code, 6);
    const urlFlagWins = await berth(['--url', h.adminUrl, 'ls'], { ...bare, BERTH_URL: 'http://127.0.0.1:9' });
    assert.equal(urlFlagWins.code, 0, urlFlagWins.stderr);
  });

  test('a corrupt settings file is a clear usage error, and configure replaces it', async () => {
    const dir = join(h.dir, 'xdg-corrupt');
    const corruptEnv = cliEnv({ XDG_CONFIG_HOME: dir });
    assert.equal((await berth(['configure', '--url', h.adminUrl, '--token', h.adminToken], corruptEnv)).code, 0);
    await writeFile(join(dir, 'berth', 'config.json'), '{not json');
    const ls = await berth(['ls'], corruptEnv);
    assert.equal(ls.code, 2);
    assert.match(errorLine(ls), /config\.json is not valid settings/);
    assert.equal((await berth(['configure', '--url', h.adminUrl, '--token', h.adminToken], corruptEnv)).code, 0);
    assert.equal((await berth(['ls'], corruptEnv)).code, 0);
  });

  test('token create prints the secret once; the token works, is listed without it, and stops working when revoked', async () => {
    const name = `ci-${run.id}`;
    const created = await berth(['token', 'create', name], env);
    assert.equal(created.code, 0, created.stderr);
    const secret = created.stdout.trim();
    assert.match(created.stdout, /^berth_\S+\n$/);
    assert.match(created.stderr, /will not be shown again/);

    const withIt = { ...env, BERTH_TOKEN: secret };
    assert.equal((await berth(['ls'], withIt)).code, 0);

    const tokens = await berthJson<Array<Record<string, unknown>>>(['token', 'ls'], env);
    const listed = tokens.find((t) => t.name === name);
    assert.ok(listed, JSON.stringify(tokens));
    assert.ok(!JSON.stringify(tokens).includes(secret), 'the secret is never listed');
    const table = await berth(['token', 'ls'], env);
    assert.match(table.stdout, /^ID +NAME +CREATED +LAST-USED$/m);
    assert.match(table.stdout, new RegExp(`^${listed.id} +${name} +`, 'm'));

    const revoked = await berth(['token', 'revoke', name], env);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(revoked.stdout, `token ${name} revoked\n`);
    assert.equal((await berth(['ls'], withIt)).code, 5);
    assert.equal((await berth(['token', 'revoke', name], env)).code, 3);
  });

  test('version prints the CLI version and the server one when reachable', async () => {
    const result = await berth(['version'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^client: berth ${VERSION.replace(/\./g, '\\.')} `, 'm'));
    assert.match(result.stdout, new RegExp(`^server: berth ${VERSION.replace(/\./g, '\\.')} \\(api v1, .*\\) at ${h.adminUrl}$`, 'm'));
    const json = await berthJson(['version'], env);
    assert.equal(json.client.version, VERSION);
    assert.equal(json.server.api, 'v1');

    const offline = await berth(['version'], { ...env, BERTH_URL: 'http://127.0.0.1:9' });
    assert.equal(offline.code, 6);
    assert.match(offline.stdout, /^client: berth /);
    assert.match(offline.stderr, /^server: unknown: cannot reach the berth API/);
  });
});
