/**
 * An app on the host network listens on the host's port itself, so a new revision cannot
 * start beside the old one: the old instance answered the new one's port check, and every
 * update of a running host-network app was refused ("port … already answers") until the app
 * was stopped by hand. Its update replaces the instance in place (stop, then start: the
 * requests arriving meanwhile wait, as for a cold start), and a new revision that never gets
 * ready brings the old container back.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { cleanupByLabel, testDocker, testRun } from '../support/docker-cleanup.js';
import { freePort } from '../support/free-port.js';
import { GatewayHarness } from '../support/gateway-harness.js';
import { timedGet } from '../support/http-requests.js';
import { APP_IMAGE } from '../support/images.js';

const run = testRun();
const name = `hnu${run.id}`;
const T = { timeout: 60_000 };

describe('updating a running app on the host network', () => {
  let h: GatewayHarness;
  let port: number;
  const apply = (env: Record<string, string>) =>
    h.api('POST', '/v1/apps', {
      body: JSON.stringify({
        apiVersion: 'berth/v1',
        name,
        image: APP_IMAGE,
        port,
        security: { hostNetwork: true },
        readiness: { path: '/healthz' },
        startTimeout: '8s',
        scale: { min: 1, max: 1 },
        env: { PORT: String(port), ...env },
        routes: [{ path: `/s/${name}/`, stripPrefix: true }],
      }),
      contentType: 'application/json',
    });
  const revisionServed = async () => {
    const got = await timedGet(h.port, `/s/${name}/env`);
    assert.equal(got.status, 200, got.body);
    return (JSON.parse(got.body) as Record<string, string>).REV;
  };
  const containers = () => testDocker().listContainers({ all: true, filters: { label: [`berth.app=${name}`] } });

  before(async () => {
    port = await freePort();
    h = await GatewayHarness.create(run.labels);
    await writeFile(h.configFile, `listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nstore: ./berth.db\nappsNetwork: ${h.appsNetworkFor()}\npolicy:\n  images: ["berth-test/*"]\n  allowHostNetwork: true\napps: []\n`);
    await h.start();
  });

  after(async () => {
    await h?.dispose();
    await cleanupByLabel(run.label);
  });

  test('replaces the instance in place, and the new revision serves', T, async () => {
    const first = await apply({ REV: '1' });
    assert.equal(first.status, 200, first.text);
    assert.equal(await revisionServed(), '1');
    // Requests during the swap wait for the new instance: none is dropped (bounded: 60 at most, 50 ms apart).
    let updating = true;
    const during: Promise<number>[] = [];
    const sending = (async () => {
      for (let i = 0; i < 60 && updating; i++) {
        during.push(timedGet(h.port, `/s/${name}/ping`, { timeoutMs: 20_000 }).then((r) => r.status));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const second = await apply({ REV: '2' }).finally(() => (updating = false));
    await sending;
    assert.equal(second.status, 200, `the update is carried out, not refused: ${second.text}`);
    const statuses = await Promise.all(during);
    assert.ok(statuses.length > 0);
    assert.deepEqual(statuses.filter((s) => s !== 200), [], `every request during the swap answered 200 (${statuses.length} sent)`);
    assert.equal(await revisionServed(), '2');
    const left = await containers();
    assert.equal(left.length, 1, `one container, the new one: ${left.map((c) => `${c.Names[0]} ${c.State}`).join(', ')}`);
    assert.equal(left[0]!.State, 'running');
  });

  test('a revision that never gets ready brings the old container back', T, async () => {
    const failed = await apply({ REV: '3', EXIT_ON_START: '7' });
    assert.equal(failed.status, 502, failed.text);
    assert.match(failed.json.detail, /revision 3 was rolled back, revision 2 keeps serving: .*exited with code 7/);
    assert.equal(await revisionServed(), '2', 'the old revision serves again');
    const left = await containers();
    assert.equal(left.length, 1, `only the old container: ${left.map((c) => `${c.Names[0]} ${c.State}`).join(', ')}`);
    assert.equal(left[0]!.State, 'running');
    const app = await h.api('GET', `/v1/apps/${name}`);
    assert.equal(app.json.state, 'running');
  });
});
