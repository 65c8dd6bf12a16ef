import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { APP_IMAGE } from '../support/images.js';
import { cleanupByLabel, testDocker, testRun } from '../support/docker-cleanup.js';
import { GatewayHarness, httpGet } from '../support/gateway-harness.js';
import { waitFor } from '../support/wait-for.js';

const run = testRun();
const a = `gw${run.id}-a`;
const always = `gw${run.id}-always`;
const foreign = `gw${run.id}-foreign`;

function appYaml(name: string, extra = ''): string {
  return `apiVersion: berth/v1\nname: ${name}\nimage: ${APP_IMAGE}\nport: 8080\nreadiness: {path: /healthz}\n${extra}`;
}

async function containerOf(app: string) {
  const list = await testDocker().listContainers({ all: true, filters: { label: [`berth.app=${app}`, run.label] } });
  return list;
}

describe('gateway on a real engine', () => {
  let h: GatewayHarness;
  let foreignId = '';

  before(async () => {
    h = await GatewayHarness.create(run.labels);
    await h.writeConfig();
    await h.writeApp('a.yaml', appYaml(a, `routes:\n  - path: /session/${a}/\n    stripPrefix: true\n  - host: ${a}.example.test\nenv: {FLAVOUR: one}\n`));
    await h.writeApp('always.yaml', appYaml(always, `scale: {min: 1, max: 1}\nroutes:\n  - path: /always/\n    stripPrefix: true\n`));
    await h.writeApp('foreign.yaml', appYaml(foreign));
    // A container that holds the name berth would use, but is not berth's.
    const c = await testDocker().createContainer({ name: `berth-${foreign}-0`, Image: APP_IMAGE, Labels: run.labels });
    foreignId = c.id;
    await h.start();
  });

  after(async () => {
    await h.dispose();
    await cleanupByLabel(run.label);
  });

  test('an app with scale.min 1 is running once the gateway has started', async () => {
    const reply = await h.get('/always/ping');
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'pong');
    assert.equal(h.gateway?.statuses().find((s) => s.name === always)?.state, 'running');
  });

  test('a declared app is cold-started and served by path prefix', async () => {
    const reply = await h.get(`/session/${a}/echo?x=1`);
    assert.equal(reply.status, 200);
    const echo = JSON.parse(reply.body) as { path: string; query: Record<string, string>; headers: Record<string, string> };
    assert.equal(echo.path, '/echo', 'the prefix is stripped');
    assert.equal(echo.query.x, '1');
    assert.equal(echo.headers['x-forwarded-for'], '127.0.0.1');
  });

  test('the same app is served by host', async () => {
    const reply = await h.get('/ping', { host: `${a}.example.test` });
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'pong');
  });

  test('its container carries the labels, runs with init and publishes on 127.0.0.1 only', async () => {
    const [summary] = await containerOf(a);
    assert.ok(summary, 'container exists');
    const info = await testDocker().getContainer(summary.Id).inspect();
    assert.equal(info.Config.Labels['berth.managed'], 'true');
    assert.equal(info.Config.Labels['berth.app'], a);
    assert.match(info.Config.Labels['berth.spec-hash'] ?? '', /^[0-9a-f]{8,}$/);
    assert.equal(info.HostConfig.Init, true);
    const bindings = info.NetworkSettings.Ports['8080/tcp'] ?? [];
    assert.ok(bindings.length > 0);
    for (const b of bindings) assert.equal(b.HostIp, '127.0.0.1');
  });

  test('a WebSocket echo works through the proxy', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${h.port}/session/${a}/ws`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const echoed = new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
    ws.send('ahoy');
    assert.equal(await echoed, 'ahoy');
    ws.close();
  });

  test('a foreign container with the app name is left untouched and the app reports the conflict', async () => {
    const status = h.gateway?.statuses().find((s) => s.name === foreign);
    assert.equal(status?.state, 'failed');
    assert.match(status?.lastError ?? '', /not managed by berth|not berth's|conflict|foreign/i);
    const info = await testDocker().getContainer(foreignId).inspect();
    assert.equal(info.Id, foreignId);
    assert.equal(info.State.Status, 'created');
    assert.equal(info.Config.Labels['berth.managed'], undefined);
    const reply = await h.get(`/session/${foreign}/ping`);
    assert.equal(reply.status, 502);
    assert.equal((await testDocker().getContainer(foreignId).inspect()).State.Status, 'created');
  });

  test('a restarted gateway adopts the running container instead of creating another', async () => {
    const before = await containerOf(a);
    assert.equal(before.length, 1);
    await h.stop();
    await h.start();
    const reply = await h.get(`/session/${a}/ping`);
    assert.equal(reply.status, 200);
    const afterRestart = await containerOf(a);
    assert.equal(afterRestart.length, 1);
    assert.equal(afterRestart[0]?.Id, before[0]?.Id);
    assert.equal(h.gateway?.statuses().find((s) => s.name === a)?.lastStartMs, undefined, 'adopted, not started');
  });

  test('a spec change applied by reload recreates the container', async () => {
    const [old] = await containerOf(a);
    await h.writeApp('a.yaml', appYaml(a, `routes:\n  - path: /session/${a}/\n    stripPrefix: true\nenv: {FLAVOUR: two}\n`));
    await h.gateway?.reload();
    const reply = await h.get(`/session/${a}/env`);
    assert.equal(reply.status, 200);
    assert.equal((JSON.parse(reply.body) as Record<string, string>).FLAVOUR, 'two');
    const now = await containerOf(a);
    assert.equal(now.length, 1);
    assert.notEqual(now[0]?.Id, old?.Id);
    // The host route was removed by the same edit.
    assert.equal((await h.get('/ping', { host: `${a}.example.test` })).status, 404);
  });

  test('a bad spec edit is refused and the previous configuration keeps serving', async () => {
    await h.writeApp('broken.yaml', `apiVersion: berth/v1\nname: Not_A_Label\nimage: ${APP_IMAGE}\nport: 99999\n`);
    await h.gateway?.reload();
    assert.equal((await h.get(`/session/${a}/ping`)).status, 200);
    assert.equal(h.gateway?.statuses().some((s) => s.name.toLowerCase() === 'not_a_label'), false);
  });

  test('shutdown drains a request in flight and leaves containers running', async () => {
    const slow = httpGet(h.port, `/session/${a}/slow?ms=600`);
    // Stopped once the request is in flight, not after a fixed 150 ms: on a loaded machine it may not have
    // reached the gateway by then, and a stop before it arrives refuses it.
    await waitFor('the slow request in flight', () => (h.gateway?.statuses().find((s) => s.name === a)?.inFlight ?? 0) > 0, { timeoutMs: 5_000 });
    await h.stop();
    const reply = await slow;
    assert.equal(reply.status, 200);
    const [c] = await containerOf(a);
    assert.equal(c?.State, 'running');
  });
});
