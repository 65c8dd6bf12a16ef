// A gateway whose engine address answers with garbage (a proxy's HTML page)
// or not at all: the gateway stays up (nothing rejects
// unheard), says why in the app's state, does not hammer the engine, and
// /v1/health and /metrics say the engine is down while it is, and up after.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appPath, testAppYaml } from '../support/app-spec.js';
import { cleanupByLabel, testRun } from '../support/docker-cleanup.js';
import { EngineProxy } from '../support/engine-proxy.js';
import { GatewayHarness } from '../support/gateway-harness.js';
import { timedGet } from '../support/http-requests.js';
import { parsePromText, promValue } from '../support/prom-text.js';
import { waitFor } from '../support/wait-for.js';

const run = testRun();
const T = { timeout: 60_000 };
const app = `eg${run.id}`;

const HTML_PAGE = '<html><body><h1>502 Bad Gateway</h1></body></html>\n';
const HTML_200 = `HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${HTML_PAGE.length}\r\n\r\n${HTML_PAGE}`;

describe('a gateway whose engine answers garbage, then nothing', () => {
  let dir: string;
  let engine: EngineProxy;
  let h: GatewayHarness;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  const status = () => h.gateway?.statuses().find((s) => s.name === app);
  const engineUp = async () => promValue(parsePromText((await h.api('GET', '/metrics')).text), 'berth_engine_up');

  before(async () => {
    process.on('unhandledRejection', onUnhandled);
    dir = await mkdtemp(join(tmpdir(), 'berth-eg-'));
    engine = new EngineProxy(join(dir, 'engine.sock'));
    await engine.listen();
    h = await GatewayHarness.create(run.labels);
    await h.writeConfig(`docker: unix://${engine.path}\nresync: 1s\n`);
    await h.writeApp('app.yaml', testAppYaml(app));
    await h.start();
  });

  after(async () => {
    process.off('unhandledRejection', onUnhandled);
    await h?.dispose();
    await engine?.close();
    await cleanupByLabel(run.label);
    await rm(dir, { recursive: true, force: true });
  });

  test('every GET answered with an HTML page: the gateway stays up, does not hammer, a cold start gets 503 with the reason, and starts once the engine is itself again', T, async () => {
    engine.corrupt.set('GET *', HTML_200);
    const relayed = engine.requests.length;
    const from = engine.corrupted.length;
    const began = performance.now();
    // The resync lists every second: two garbled lists, each heard as a failure.
    await waitFor('two garbled lists', () => engine.corrupted.slice(from).filter((c) => c === 'GET /containers/json').length >= 2, { timeoutMs: 10_000, intervalMs: 50 });
    const perS = ((engine.corrupted.length - from) * 1000) / (performance.now() - began);
    // The event streams are reopened (backing off) and the resync lists: a few calls a second, not one per byte of the page.
    assert.ok(perS < 15, `the engine was called ${perS.toFixed(1)} times a second: ${engine.corrupted.slice(from, from + 20).join(', ')}`);
    assert.deepEqual(engine.requests.slice(relayed), [], 'nothing was done on the strength of a garbled answer');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled.map(String), [], 'nothing rejected unheard');

    const refused = await timedGet(h.port, appPath(app, '/ping'), { headers: { accept: 'application/json' }, timeoutMs: 30_000 });
    assert.equal(refused.status, 503, refused.body);
    const problem = JSON.parse(refused.body) as { code: string; detail: string };
    assert.equal(problem.code, 'engine_unavailable');
    // The engine's address and words are the gateway's setup: the admin API says them, the app's clients do not read them.
    assert.doesNotMatch(problem.detail, /Docker engine|engine\.sock|not JSON/);
    assert.match(status()?.lastError ?? '', /not JSON/);
    assert.deepEqual(unhandled.map(String), []);

    engine.corrupt.clear();
    const back = await waitFor(
      'the app to start once the engine answers as itself',
      async () => {
        const reply = await timedGet(h.port, appPath(app, '/ping'), { headers: { accept: 'application/json' }, timeoutMs: 30_000 });
        return reply.status === 200 ? reply : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    assert.equal(back.status, 200);
    assert.equal(status()?.state, 'running');
  });

  test('/v1/health and berth_engine_up say the engine is down while it does not answer, and up after', T, async () => {
    assert.equal((await h.api('GET', '/v1/health')).status, 200);
    assert.equal(await engineUp(), 1);
    engine.blackHole = true;
    try {
      // Both ask the engine with a bounded ping: asked together, the outage costs one bound.
      const [health, up] = await Promise.all([h.api('GET', '/v1/health'), engineUp()]);
      assert.equal(health.status, 503, health.text);
      assert.equal(health.json.status, 'degraded');
      assert.match(health.json.engine, /does not answer/);
      assert.equal(up, 0);
    } finally {
      engine.blackHole = false;
    }
    await waitFor('the engine to be up again in the metrics', async () => (await engineUp()) === 1, { timeoutMs: 15_000, intervalMs: 100 });
    assert.equal((await h.api('GET', '/v1/health')).status, 200);
    assert.deepEqual(unhandled.map(String), []);
  });
});
