// The launch-policy rules every spec form goes through (berth/v1, SWS v1, the
// cntSpawner body, and the gateway config): each refusal names its field.
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { describe, it } from 'node:test';
import { buildConfig } from '../../src/config/load-config.js';
import { BerthError, ConfigError, PolicyError, SpecError } from '../../src/errors.js';
import { parseCntSpawnerBody, parseSpecObject } from '../../src/spec/parse.js';

function pathsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof SpecError || err instanceof PolicyError, `expected SpecError, got ${String(err)}`);
    return err.problems.map((p) => p.path);
  }
  assert.fail('accepted');
}

const berth = (extra: Record<string, unknown>) => () => parseSpecObject({ apiVersion: 'berth/v1', name: 'a', image: 'berth-test/app:latest', port: 8080, ...extra });
const sws = (extra: Record<string, unknown>) => () => parseSpecObject({ apiVersion: 'v1', spec: { name: 'a', port: 8080, domain: 'a.example.com', image: 'berth-test/app:latest', ...extra } });
const cnt = (extra: Record<string, unknown>) => () => parseCntSpawnerBody({ name: 'a', image: 'berth-test/app:latest', ...extra });

describe('spec rules, at their field paths, in every form', () => {
  const cases: Array<[what: string, run: () => unknown, path: string]> = [
    ['env value with LF', berth({ env: { A: 'x\ny' } }), 'env.A'],
    ['env value with CR', berth({ env: { A: 'x\r' } }), 'env.A'],
    ['env value with NUL', berth({ env: { A: 'x\0' } }), 'env.A'],
    ['env name with LF', berth({ env: { 'A\nB': 'x' } }), 'env["A\\nB"]'],
    ['label value with CRLF', berth({ labels: { team: 'a\r\nX-Injected: 1' } }), 'labels.team'],
    ['label name with NUL', berth({ labels: { 'te\0am': 'a' } }), 'labels["te\\u0000am"]'],
    ['waiting-page title with LF', berth({ waitingPage: { title: 'a\nb' } }), 'waitingPage.title'],
    ['waiting-page message with ESC', berth({ waitingPage: { message: 'a\x1b[2J' } }), 'waitingPage.message'],
    ['IPv4 route host', berth({ routes: [{ host: '127.0.0.1' }] }), 'routes[0].host'],
    ['IPv6 route host', berth({ routes: [{ host: '[::1]' }] }), 'routes[0].host'],
    ['numeric route host', berth({ routes: [{ host: '2130706433' }] }), 'routes[0].host'],
    ['route under /_berth/', berth({ routes: [{ path: '/_berth/status/' }] }), 'routes[0].path'],
    ['route at /_berth', berth({ routes: [{ host: 'a.example.com', path: '/_berth' }] }), 'routes[0].path'],
    ['uppercase image', berth({ image: 'Berth/App' }), 'image'],
    ['image with a bad digest', berth({ image: 'app@sha256:123' }), 'image'],
    ['SWS env value with LF', sws({ env: [{ name: 'A', value: 'ok' }, { name: 'B', value: 'x\ny' }] }), 'spec.env[1].value'],
    ['SWS env name with CR', sws({ env: [{ name: 'A\r', value: 'ok' }] }), 'spec.env[0].name'],
    ['SWS IP domain', sws({ domain: '10.0.0.1' }), 'spec.domain'],
    ['SWS bad image', sws({ image: 'my image' }), 'spec.image'],
    ['cntSpawner env value with NUL', cnt({ envs: { A: 'x\0' } }), 'envs.A'],
    ['cntSpawner env list entry with LF', cnt({ envs: ['A=1', 'B=x\ny'] }), 'envs[1]'],
    ['cntSpawner label with CR', cnt({ labels: { team: 'x\r' } }), 'labels.team'],
    ['cntSpawner Host rule on an IP', cnt({ labels: { 'traefik.http.routers.a.rule': 'Host(`127.0.0.1`)' } }), 'labels["traefik.http.routers.a.rule"]'],
    ['cntSpawner PathPrefix under /_berth/', cnt({ labels: { 'traefik.http.routers.a.rule': 'PathPrefix(`/_berth/input/`)' } }), 'labels["traefik.http.routers.a.rule"]'],
    ['cntSpawner uppercase image', cnt({ image: 'MinionApp:latest' }), 'image'],
  ];
  for (const [what, run, path] of cases) {
    it(`${what}: refused at ${path}`, () => assert.deepEqual(pathsOf(run), [path]));
  }

  it('accepts tabs in values, and text with no control characters', () => {
    const spec = berth({ env: { A: 'a\tb', B: 'ünï ✓' }, labels: { team: 'x\ty' }, waitingPage: { title: 'Wait\tplease' } })() as { env: Record<string, string> };
    assert.equal(spec.env.A, 'a\tb');
  });

  it('cannot smuggle powers through the compatibility forms: they map onto no security field', () => {
    // Neither SWS nor cntSpawner has a way to ask for privileged, capabilities or host namespaces.
    assert.ok(pathsOf(cnt({ privileged: true })).length > 0);
    assert.ok(pathsOf(cnt({ HostConfig: { Privileged: true } })).length > 0);
    assert.ok(pathsOf(sws({ security: { privileged: true } })).length > 0);
    const spec = cnt({ labels: { 'com.docker.privileged': 'true' } })() as { security: { privileged: boolean; capAdd: string[]; hostNetwork: boolean; hostPid: boolean } };
    assert.deepEqual(spec.security, { privileged: false, capAdd: [], hostNetwork: false, hostPid: false });
  });
});

describe('the gateway config', () => {
  const app = (extra: Record<string, unknown>) => ({ apiVersion: 'berth/v1', name: 'a', image: 'berth-test/app:latest', port: 8080, ...extra });

  it('refuses control characters in the waiting page text', async () => {
    await assert.rejects(buildConfig({ waitingPage: { title: 'a\r\nb' } }, tmpdir()), (err: unknown) => err instanceof ConfigError && /waitingPage\.title/.test(err.message));
  });

  it('refuses a route claiming the admin listener\'s host names', async () => {
    for (const [config, host] of [
      [{ admin: 'berth.internal:8081' }, 'berth.internal'],
      [{ adminHosts: ['ops.example.com'] }, 'OPS.example.com'],
      [{}, 'localhost'],
    ] as const) {
      await assert.rejects(
        buildConfig({ ...config, apps: [app({ routes: [{ host }] })] }, tmpdir()),
        (err: unknown) => err instanceof BerthError && 'problems' in err && (err as SpecError).problems.some((p) => p.path === 'apps[0].routes[0].host'),
        host,
      );
    }
    const ok = await buildConfig({ adminHosts: ['ops.example.com'], apps: [app({ routes: [{ host: 'a.example.com' }] })] }, tmpdir());
    assert.deepEqual(ok.adminHosts, ['ops.example.com']);
  });

  it('refuses adminHosts entries that are not host names', async () => {
    for (const bad of ['http://admin.example.com', 'admin.example.com:8081', 'admin.example.com/x', '', 'a b']) {
      await assert.rejects(buildConfig({ adminHosts: [bad] }, tmpdir()), (err: unknown) => err instanceof ConfigError && /adminHosts\[0\]/.test(err.message), bad);
    }
    assert.deepEqual((await buildConfig({ adminHosts: ['admin.example.com', '10.0.0.5', '[fd00::1]'] }, tmpdir())).adminHosts, ['admin.example.com', '10.0.0.5', '[fd00::1]']);
  });

  it('refuses a wildcard route whose host for the app is the admin name', async () => {
    await assert.rejects(buildConfig({ adminHosts: ['a.example.com'], apps: [app({ routes: [{ host: '*.example.com' }] })] }, tmpdir()), SpecError);
  });
});
