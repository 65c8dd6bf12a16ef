// A Docker engine that accepts connections and never answers (a hung dockerd, a
// wedged proxy in front of it): a request that needs a cold start gets a fast 503
// with Retry-After, not a hang, and no crash-loop count against the app, and the app
// starts once the engine answers again (the real engine behind EngineProxy). The
// runtime's own calls against a black hole are test/unit/engine-blackhole-runtime.test.ts.
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
import { waitFor } from '../support/wait-for.js';

const run = testRun();
const T = { timeout: 60_000 };

describe('a gateway whose engine goes silent', () => {
  let dir: string;
  let engine: EngineProxy;
  let h: GatewayHarness;
  const app = `bh${run.id}`;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-bh-'));
    engine = new EngineProxy(join(dir, 'engine.sock'));
    await engine.listen();
    h = await GatewayHarness.create(run.labels);
    await h.writeConfig(`docker: unix://${engine.path}\ntimeouts:\n  engine: 2s\n`);
    await h.writeApp('app.yaml', testAppYaml(app));
    await h.start();
  });

  after(async () => {
    await h?.dispose();
    await engine?.close();
    await cleanupByLabel(run.label);
    await rm(dir, { recursive: true, force: true });
  });

  test('a cold start gets a fast 503 with Retry-After and the reason; the app is not counted as crashing; it starts as soon as the engine answers again', T, async () => {
    engine.blackHole = true;
    for (let i = 0; i < 4; i++) {
      const reply = await timedGet(h.port, appPath(app, '/ping'), { headers: { accept: 'application/json' }, timeoutMs: 10_000 });
      assert.equal(reply.status, 503, reply.body);
      // The first waits out the engine timeout; the next are answered at once until the hint runs out.
      const retryAfterS = Number(reply.headers['retry-after']);
      assert.ok(retryAfterS >= 1 && retryAfterS <= 5, `retry-after: ${reply.headers['retry-after']}`);
      // Under the 2 s engine timeout a request that tried the engine again would wait out, not 200 ms: a loaded machine takes that.
      if (i > 0) assert.ok(reply.ms < 1_000, `a repeated request answered after ${Math.round(reply.ms)} ms`);
      const problem = JSON.parse(reply.body) as { code: string; app: string; detail: string };
      assert.equal(problem.code, 'engine_unavailable');
      assert.equal(problem.app, app);
      // The engine's address is the gateway's setup: the admin API says it, the app's clients do not read it.
      assert.match(problem.detail, /the gateway cannot start or reach app \S+ right now; try again in \d+ s/);
      assert.doesNotMatch(problem.detail, /Docker engine|engine\.sock/);
      assert.ok(reply.ms < 6_000, `answered after ${Math.round(reply.ms)} ms`);
    }
    const state = h.gateway?.statuses().find((s) => s.name === app)?.state;
    assert.equal(state, 'failed', 'an engine outage is not a crash loop');
    // A browser is not shown a 502 "failed to start" page for the engine's outage.
    const page = await timedGet(h.port, appPath(app, '/'), { headers: { accept: 'text/html', 'sec-fetch-mode': 'navigate' }, timeoutMs: 10_000 });
    assert.equal(page.status, 503);
    assert.ok(page.headers['retry-after'] !== undefined);
    // Retry-After is rounded up to whole seconds: the outage it announces lasts at least this long.
    const refusedUntil = performance.now() + (Number(page.headers['retry-after']) - 1) * 1000;
    engine.blackHole = false;
    const backAt = performance.now();
    // The gateway probes the engine on new connections while it is down, so the outage ends when
    // the engine answers, not when Retry-After runs out: the next request starts the app.
    let startedAt: number | undefined;
    const watch = setInterval(() => {
      if (startedAt === undefined && h.gateway?.statuses().find((s) => s.name === app)?.state !== 'failed') startedAt = performance.now();
    }, 10);
    try {
      const back = await waitFor(
        'the app to start once the engine answers again',
        async () => {
          const reply = await timedGet(h.port, appPath(app, '/ping'), { headers: { accept: 'application/json' }, timeoutMs: 30_000 });
          return reply.status === 200 ? reply : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      assert.equal(back.status, 200);
    } finally {
      clearInterval(watch);
    }
    const after = (t: number | undefined) => (t === undefined ? 'never' : `${Math.round(t - backAt)} ms`);
    assert.ok(startedAt !== undefined && startedAt < refusedUntil, `the start began after ${after(startedAt)}; the outage Retry-After announced lasted at least ${after(refusedUntil)}`);
  });
});
