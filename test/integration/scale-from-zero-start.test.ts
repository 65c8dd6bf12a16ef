// Scale from zero, the start side: a cold request is served, a thundering herd
// causes one start, the wait queue is bounded, browsers get the waiting page
// while API clients are held. Runs a real gateway on the real engine.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appPath, testAppYaml } from '../support/app-spec.js';
import { inspectAppContainer } from '../support/app-container.js';
import { cleanupByLabel, testDocker, testRun } from '../support/docker-cleanup.js';
import { EngineEvents } from '../support/engine-events.js';
import { GatewayHarness } from '../support/gateway-harness.js';
import { concurrentGets, timedGet } from '../support/http-requests.js';
import { waitFor } from '../support/wait-for.js';

const run = testRun();
const cold = `sz${run.id}-cold`;
const herd = `sz${run.id}-herd`;
const queue = `sz${run.id}-queue`;
const page = `sz${run.id}-page`;
const BROWSER = { accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8', 'sec-fetch-mode': 'navigate' };
const T = { timeout: 30_000 };

describe('scale from zero: starting on demand', () => {
  let h: GatewayHarness;
  let events: EngineEvents;
  const state = (app: string) => h.gateway?.statuses().find((s) => s.name === app);

  before(async () => {
    events = await EngineEvents.open(run.label);
    h = await GatewayHarness.create(run.labels);
    await h.writeConfig('defaults:\n  idleTimeout: 1m\n');
    await h.writeApp('cold.yaml', testAppYaml(cold));
    await h.writeApp('herd.yaml', testAppYaml(herd));
    await h.writeApp('queue.yaml', testAppYaml(queue, 'queueSize: 5\nenv: {STARTUP_DELAY_MS: "1500"}\n'));
    await h.writeApp('page.yaml', testAppYaml(page, 'env: {STARTUP_DELAY_MS: "1500"}\nwaitingPage: {title: "Warming up the test app", message: "Hold tight."}\n'));
    await h.start();
  });

  after(async () => {
    events?.close();
    await h?.dispose();
    await cleanupByLabel(run.label);
  });

  test('a cold request is served with the app’s own response, stopped → running', T, async () => {
    assert.equal(state(cold)?.state, 'stopped');
    assert.equal((await inspectAppContainer(cold, run.label))?.State.Status, 'created', 'created at reconcile, never started');
    const reply = await timedGet(h.port, appPath(cold, '/echo?cold=1'));
    assert.equal(reply.status, 200);
    const echo = JSON.parse(reply.body) as { path: string; query: Record<string, string> };
    assert.equal(echo.path, '/echo');
    assert.equal(echo.query.cold, '1');
    const status = state(cold);
    assert.equal(status?.state, 'running');
    assert.equal(typeof status?.lastStartMs, 'number');
    assert.equal(status?.lastError, undefined);
    assert.equal((await inspectAppContainer(cold, run.label))?.State.Status, 'running');
  });

  test('a request for an app whose container was removed creates it again and is served', T, async () => {
    const old = await inspectAppContainer(cold, run.label);
    assert.ok(old);
    await testDocker().getContainer(old.Id).remove({ force: true });
    await waitFor('the app to notice its container is gone', () => state(cold)?.state === 'stopped', { timeoutMs: 5_000 });
    const reply = await timedGet(h.port, appPath(cold, '/ping'));
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'pong');
    const now = await inspectAppContainer(cold, run.label);
    assert.notEqual(now?.Id, old.Id, 'a new container');
    assert.equal(now?.State.Status, 'running');
    assert.equal(state(cold)?.state, 'running');
  });

  test('200 concurrent cold requests cause exactly one container start and all get the app’s response', T, async () => {
    assert.equal(state(herd)?.state, 'stopped');
    assert.equal(events.count(herd, 'start'), 0);
    const replies = await concurrentGets(h.port, appPath(herd, '/ping'), 200);
    const statuses = new Map<number, number>();
    for (const r of replies) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    assert.deepEqual([...statuses], [[200, 200]], 'every request got 200');
    assert.ok(replies.every((r) => r.body === 'pong'), 'every body is the app’s');
    assert.equal(await events.settledCount(herd, 'start', 1, 300), 1, 'one container start');
    assert.equal(state(herd)?.state, 'running');
  });

  test('beyond queueSize, waiters get 503 with Retry-After at once; the queued ones get 200', T, async () => {
    assert.equal(state(queue)?.state, 'stopped');
    const replies = await concurrentGets(h.port, appPath(queue, '/ping'), 20);
    const ok = replies.filter((r) => r.status === 200);
    const refused = replies.filter((r) => r.status === 503);
    assert.equal(ok.length + refused.length, 20, `only 200 and 503: ${replies.map((r) => r.status).join(',')}`);
    assert.equal(ok.length, 5, 'exactly the queue size is held and served');
    for (const r of ok) {
      assert.equal(r.body, 'pong');
      assert.ok(r.ms >= 1_400, `a served request waited for the start (${Math.round(r.ms)} ms)`);
    }
    for (const r of refused) {
      assert.match(String(r.headers['retry-after']), /^\d+$/);
      assert.ok(r.ms < 1_000, `refused at once, not after the start (${Math.round(r.ms)} ms)`);
      const problem = JSON.parse(r.body) as { code: string; app: string; detail: string };
      assert.equal(problem.code, 'overloaded');
      assert.equal(problem.app, queue);
    }
    assert.equal(await events.settledCount(queue, 'start', 1), 1);
  });

  test('a browser navigation gets the waiting page, an API client is held; then the app answers', T, async () => {
    assert.equal(state(page)?.state, 'stopped');
    const url = appPath(page, '/ping');
    const waiting = await timedGet(h.port, url, { headers: BROWSER });
    assert.equal(waiting.status, 503);
    assert.match(String(waiting.headers['content-type']), /^text\/html/);
    assert.ok(waiting.ms < 1_000, `the page comes at once (${Math.round(waiting.ms)} ms)`);
    assert.ok(waiting.body.includes(page), 'names the app');
    assert.ok(waiting.body.includes('Warming up the test app'), 'the spec’s title');
    assert.match(waiting.body, /<noscript><meta http-equiv="refresh" content="\d+"><\/noscript>/);
    assert.ok(waiting.body.includes(`/_berth/status/${page}`), 'polls the status endpoint');
    assert.doesNotMatch(waiting.body, /<(script|link|img)[^>]+(src|href)=/, 'no external assets');
    assert.equal(state(page)?.state, 'starting', 'the page set the start going');

    // An API client and a fetch() from a page, in the same situation, are held and served.
    const api = timedGet(h.port, url, { headers: { accept: 'application/json' } });
    const fetchLike = timedGet(h.port, url, { headers: { accept: 'text/html', 'sec-fetch-mode': 'cors' } });
    const statusWhileStarting = JSON.parse((await timedGet(h.port, `/_berth/status/${page}`)).body) as { app: string; state: string; ready: boolean };
    assert.deepEqual({ app: statusWhileStarting.app, state: statusWhileStarting.state, ready: statusWhileStarting.ready }, { app: page, state: 'starting', ready: false });
    for (const reply of await Promise.all([api, fetchLike])) {
      assert.equal(reply.status, 200);
      assert.equal(reply.body, 'pong');
      assert.ok(reply.ms >= 500, `held until the app was ready (${Math.round(reply.ms)} ms)`);
    }

    const ready = await waitFor(
      'the status endpoint to say ready',
      async () => {
        const s = JSON.parse((await timedGet(h.port, `/_berth/status/${page}`)).body) as { state: string; ready: boolean; error?: string };
        return s.ready ? s : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    assert.equal(ready.state, 'running');
    const landed = await timedGet(h.port, url, { headers: BROWSER });
    assert.equal(landed.status, 200);
    assert.equal(landed.body, 'pong');
    assert.equal(await events.settledCount(page, 'start', 1), 1);
  });
});
