// Many apps on the real engine: the API pages through them, and only `createAhead`
// never-started apps get a container ahead; the others get theirs at first use.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { APP_IMAGE } from '../support/images.js';
import { cleanupByLabel, testDocker, testRun } from '../support/docker-cleanup.js';
import { GatewayHarness } from '../support/gateway-harness.js';

const run = testRun();
const APPS = 250;
const CREATE_AHEAD = 3;
const name = (i: number) => `n${run.id}-${String(i).padStart(3, '0')}`;
const spec = (i: number) => ({ apiVersion: 'berth/v1', name: name(i), image: APP_IMAGE, port: 8080, readiness: { path: '/healthz' } });

describe('many apps on the real engine', () => {
  let h: GatewayHarness;
  const containersOf = async (app?: string) =>
    (await testDocker().listContainers({ all: true, filters: { label: [run.label, ...(app ? [`berth.app=${app}`] : [])] } })).length;

  before(async () => {
    h = await GatewayHarness.create(run.labels);
    await h.writeConfig(`createAhead: ${CREATE_AHEAD}\n`);
    await h.start();
  });

  after(async () => {
    await h.dispose();
    await cleanupByLabel(run.label);
  });

  test(`registers ${APPS} apps in batches; only ${CREATE_AHEAD} get a container ahead`, async () => {
    for (let from = 0; from < APPS; from += 100) {
      const batch = Array.from({ length: Math.min(100, APPS - from) }, (_, k) => spec(from + k));
      const reply = await h.api('POST', '/v1/apps', { body: JSON.stringify(batch) });
      assert.equal(reply.status, 200, reply.text);
      assert.ok(reply.json.results.every((r: { action: string }) => r.action === 'created'));
    }
    assert.equal(await containersOf(), CREATE_AHEAD, 'the others have no container yet');
  });

  test('GET /v1/apps pages through every app once, by name', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const reply = await h.api('GET', `/v1/apps?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(reply.status, 200, reply.text);
      assert.ok(reply.json.apps.length <= 100);
      seen.push(...reply.json.apps.map((a: { name: string }) => a.name));
      cursor = reply.json.next;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(seen, Array.from({ length: APPS }, (_, i) => name(i)));
    const first = await h.api('GET', '/v1/apps');
    assert.equal(first.json.apps.length, 100, 'a page of 100 by default');
    for (const bad of ['limit=0', 'limit=1001', 'cursor=nonsense']) {
      const reply = await h.api('GET', `/v1/apps?${bad}`);
      assert.equal(reply.status, 400, bad);
      assert.equal(reply.json.code, 'bad_request');
      assert.match(reply.json.detail, /query parameter (limit|cursor)/);
    }
  });

  test('a stopped app without a container gets one at its first request, and serves', async () => {
    const app = name(APPS - 1);
    assert.equal(await containersOf(app), 0);
    const reply = await h.get(`/session/${app}/`, { accept: 'application/json' });
    assert.equal(reply.status, 200, reply.body);
    assert.equal(await containersOf(app), 1);
    const view = await h.api('GET', `/v1/apps/${app}`);
    assert.equal(view.json.state, 'running');
  });
});
