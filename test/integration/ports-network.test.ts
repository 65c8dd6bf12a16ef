// Ports and addresses on the real engine: a spec or cntSpawner body without a port
// takes the image's one EXPOSEd port; several is a 422 asking for one; a wrong port
// fails its start saying what was seen; apps reach each other by app name on
// berth's apps network. Runs a real gateway in this process.
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupByLabel, testDocker, testRun } from '../support/docker-cleanup.js';
import { GatewayHarness } from '../support/gateway-harness.js';
import { APP_IMAGE, HTTPD_IMAGE } from '../support/images.js';
import { timedGet } from '../support/http-requests.js';
import { waitFor } from '../support/wait-for.js';

const run = testRun();
const T = { timeout: 60_000 };
/** An image EXPOSing two ports (8080 from the httpd image, and 9000), built for this run and removed after. */
const TWO_PORTS = `berth-test/two-ports-${run.id}:latest`;
const CONFIG_APP = `pn${run.id}-cfg`;

describe('ports and addresses', () => {
  let h: GatewayHarness;

  before(async () => {
    const built = spawnSync('docker', ['build', '-q', '-t', TWO_PORTS, '--label', run.label, '-'], { input: `FROM ${HTTPD_IMAGE}\nEXPOSE 9000\n`, encoding: 'utf8', timeout: 60_000 });
    assert.equal(built.status, 0, built.stderr);
    h = await GatewayHarness.create(run.labels);
    await h.writeConfig('defaults:\n  idleTimeout: 1m\n');
    await h.writeApp('cfg.yaml', `apiVersion: berth/v1\nname: ${CONFIG_APP}\nimage: ${APP_IMAGE}\n`);
    await h.start();
  });

  after(async () => {
    await h?.dispose();
    await cleanupByLabel(run.label);
    await testDocker()
      .getImage(TWO_PORTS)
      .remove({ force: true })
      .catch(() => undefined);
  });

  test('a config-file app without a port gets its image\'s at load', T, async () => {
    const app = await h.api('GET', `/v1/apps/${CONFIG_APP}`);
    assert.equal(app.status, 200, app.text);
    assert.equal(app.json.spec.port, 8080);
  });

  test('a cntSpawner body without a port takes the one port the image exposes, and is served', T, async () => {
    const name = `pn${run.id}-minion`;
    const body = { name, image: APP_IMAGE, labels: { [`traefik.http.routers.${name}.rule`]: `PathPrefix("/session/${name}/")` }, envs: { IDLE: '1m' } };
    const created = await h.api('POST', '/v1/', { body: JSON.stringify(body) });
    assert.equal(created.status, 201, created.text);
    const app = await h.api('GET', `/v1/apps/${name}`);
    assert.equal(app.json.spec.port, 8080);
    const reply = await timedGet(h.port, `/session/${name}/echo`, { timeoutMs: 20_000 });
    assert.equal(reply.status, 200, reply.body);
    assert.equal(JSON.parse(reply.body).path, `/session/${name}/echo`);
  });

  test('a spec without a port on an image exposing several is refused with 422, naming the field and the ports', T, async () => {
    const name = `pn${run.id}-two`;
    const res = await h.api('POST', '/v1/apps', { body: `apiVersion: berth/v1\nname: ${name}\nimage: ${TWO_PORTS}\n`, contentType: 'application/yaml' });
    assert.equal(res.status, 422, res.text);
    assert.match(res.text, /exposes 2 ports \(8080, 9000\)/);
    assert.match(res.text, /name the port the app listens on in `port`/);
    assert.equal((await h.api('GET', `/v1/apps/${name}`)).status, 404, 'nothing was stored');
    const named = await h.api('POST', '/v1/apps', { body: `apiVersion: berth/v1\nname: ${name}\nimage: ${TWO_PORTS}\nport: 8080\n`, contentType: 'application/yaml' });
    assert.equal(named.status, 200, named.text);
  });

  test('a start on the wrong port fails saying nothing answered there and which port the image exposes', T, async () => {
    const name = `pn${run.id}-wrong`;
    const spec = `apiVersion: berth/v1\nname: ${name}\nimage: ${APP_IMAGE}\nport: 80\nstartTimeout: 4s\n`;
    assert.equal((await h.api('POST', '/v1/apps', { body: spec, contentType: 'application/yaml' })).status, 200);
    const reply = await timedGet(h.port, `/session/${name}/`, { headers: { accept: 'application/json' }, timeoutMs: 20_000 });
    assert.ok(reply.status >= 500, `status ${reply.status}`);
    assert.match(reply.body, /nothing answered on container port 80; the image exposes 8080/, reply.body);
  });

  test('apps reach each other by app name on the apps network', T, async () => {
    const b = `pn${run.id}-b`;
    const a = `pn${run.id}-a`;
    // a copies b's index page, fetched by b's app name, into its own web root, a bounded number of tries.
    const fetchB = `for i in $(busybox seq 1 100); do busybox wget -q -O /www/from-b.tmp http://${b}:8080/ && busybox mv /www/from-b.tmp /www/from-b && break; busybox sleep 0.1; done & exec busybox httpd -f -p 8080 -h /www`;
    const specs = [
      `apiVersion: berth/v1\nname: ${b}\nimage: ${HTTPD_IMAGE}\nport: 8080\nroutes:\n  - path: /session/${b}/\n    stripPrefix: true\n`,
      `apiVersion: berth/v1\nname: ${a}\nimage: ${HTTPD_IMAGE}\nport: 8080\ndependsOn: [${b}]\ncommand: ["/bin/sh", "-c", ${JSON.stringify(fetchB)}]\nroutes:\n  - path: /session/${a}/\n    stripPrefix: true\n`,
    ].join('---\n');
    const applied = await h.api('POST', '/v1/apps', { body: specs, contentType: 'application/yaml' });
    assert.equal(applied.status, 200, applied.text);
    const page = await timedGet(h.port, `/session/${b}/index.html`, { timeoutMs: 20_000 });
    assert.equal(page.status, 200);
    const copied = await waitFor('a to have fetched b by name', async () => {
      const reply = await timedGet(h.port, `/session/${a}/from-b`, { timeoutMs: 20_000 });
      return reply.status === 200 ? reply.body : undefined;
    }, { timeoutMs: 20_000, intervalMs: 200 });
    assert.equal(copied, page.body);
    const info = await testDocker().getContainer(`berth-${a}-0`).inspect();
    assert.ok(info.NetworkSettings.Networks[h.appsNetworkFor()]?.Aliases?.includes(a), 'aliased by its app name');
  });

  test('appsNetwork: none keeps apps on the default bridge only, and they are served', T, async () => {
    const plain = await GatewayHarness.create(run.labels);
    try {
      await plain.writeConfig('appsNetwork: none\ndefaults:\n  idleTimeout: 1m\n');
      await plain.start();
      const name = `pn${run.id}-plain`;
      const applied = await plain.api('POST', '/v1/apps', { body: `apiVersion: berth/v1\nname: ${name}\nimage: ${HTTPD_IMAGE}\nport: 8080\nroutes:\n  - path: /session/${name}/\n    stripPrefix: true\n`, contentType: 'application/yaml' });
      assert.equal(applied.status, 200, applied.text);
      const page = await timedGet(plain.port, `/session/${name}/index.html`, { timeoutMs: 20_000 });
      assert.equal(page.status, 200);
      const info = await testDocker().getContainer(`berth-${name}-0`).inspect();
      assert.deepEqual(Object.keys(info.NetworkSettings.Networks), ['bridge']);
    } finally {
      await plain.dispose();
    }
  });
});
