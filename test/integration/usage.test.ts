// Usage accounting on the real engine (seed 001: apps cost nothing while idle,
// and berth shows the saving): a scripted start → requests → idle stop, read
// back through GET /v1/usage and `berth usage`, and still there after the
// gateway restarts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { UsageFigures, UsageReport } from '../../src/accounting/usage-report.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { appPath, testAppYaml } from '../support/app-spec.js';
import { inspectAppContainer } from '../support/app-container.js';
import { berth, berthJson, cliEnv } from '../support/berth-cli.js';
import { cleanupByLabel, testRun } from '../support/docker-cleanup.js';
import { GatewayHarness } from '../support/gateway-harness.js';
import { timedGet } from '../support/http-requests.js';
import { sleep, waitFor } from '../support/wait-for.js';

const run = testRun();
const app = `us${run.id}-acct`;
const IDLE_TIMEOUT_S = 2;
const REQUESTS = 5;

/**
 * How far berth's running seconds may be above the engine's own record of how
 * long the container ran (State.FinishedAt − State.StartedAt). berth counts from
 * the moment it begins the start (before the engine creates and starts the
 * container) until its stop call has returned (after the engine recorded the
 * exit), so its span contains the engine's; the difference is the create/start
 * and stop round trips to the engine, well under a second, more than doubled for a busy
 * host running test files in parallel. Below, only timestamp granularity.
 */
const ABOVE_ENGINE_S = 3;
const BELOW_ENGINE_S = 0.05;

describe('usage accounting against the real engine', { timeout: 120_000 }, () => {
  let h: GatewayHarness;
  const state = () => h.gateway?.statuses().find((s) => s.name === app)?.state;
  const usage = async (query = `?since=1d&app=${app}`): Promise<UsageReport> => {
    const res = await h.api('GET', `/v1/usage${query}`);
    assert.equal(res.status, 200, res.text);
    return res.json as UsageReport;
  };
  let first: UsageFigures;

  before(async () => {
    h = await GatewayHarness.create(run.labels);
    await h.writeConfig();
    await h.writeApp('acct.yaml', testAppYaml(app, `idleTimeout: ${IDLE_TIMEOUT_S}s\n`));
    await h.start();
  });

  after(async () => {
    await h?.dispose();
    await cleanupByLabel(run.label);
  });

  test('start → requests → idle stop: running seconds match the engine, requests exactly, idle and saving above zero', async (t) => {
    assert.equal(state(), 'stopped');
    await sleep(300); // some idle time before the first request
    const began = performance.now();
    for (let i = 0; i < REQUESTS; i++) {
      const reply = await timedGet(h.port, appPath(app, '/ping'), { timeoutMs: 15_000 });
      assert.equal(reply.status, 200, reply.body);
    }
    await waitFor('the idle stop', () => state() === 'stopped', { timeoutMs: 15_000, intervalMs: 20 });
    const wallS = (performance.now() - began) / 1000;
    await sleep(1_200); // stopped: idle time accrues

    const info = await inspectAppContainer(app, run.label);
    assert.equal(info?.State.Status, 'exited');
    const engineS = (Date.parse(info!.State.FinishedAt) - Date.parse(info!.State.StartedAt)) / 1000;

    const report = await usage();
    assert.equal(report.apps.length, 1);
    const total = report.apps[0]!;
    t.diagnostic(`running ${total.runningSeconds} s (engine ${engineS} s, watched ${wallS.toFixed(3)} s), idle ${total.idleSeconds} s, saving ${total.savingPercent} %`);
    first = total;
    assert.equal(total.app, app);
    assert.equal(total.requests, REQUESTS, 'every proxied request counted, exactly');
    assert.ok(
      total.runningSeconds >= engineS - BELOW_ENGINE_S && total.runningSeconds <= engineS + ABOVE_ENGINE_S,
      `running ${total.runningSeconds} s vs the engine's ${engineS} s`,
    );
    // It ran at least its idle timeout after the last request, and no longer than we watched.
    assert.ok(total.runningSeconds >= IDLE_TIMEOUT_S, `running ${total.runningSeconds} s ≥ idle timeout`);
    assert.ok(total.runningSeconds <= wallS + 0.05, `running ${total.runningSeconds} s ≤ ${wallS} s watched`);
    assert.equal(total.pausedSeconds, 0);
    assert.ok(total.idleSeconds >= 1.4, `idle ${total.idleSeconds} s: 0.3 s before the start and 1.2 s after the stop at least`);
    assert.ok(total.savingSeconds > 0 && total.savingPercent !== null && total.savingPercent > 0, `saving ${total.savingSeconds} s, ${total.savingPercent} %`);
    assert.ok(Math.abs(total.alwaysOnSeconds - (total.runningSeconds + total.idleSeconds)) < 0.005);
    assert.ok(Math.abs(total.savingSeconds - total.idleSeconds) < 0.005);
    // Days (one, or two around midnight UTC) add up to the total.
    const dayRequests = report.days.filter((d) => d.app === app).reduce((n, d) => n + d.requests, 0);
    assert.equal(dayRequests, REQUESTS);
    assert.deepEqual(report.total.requests, REQUESTS);
  });

  test('the figures survive a gateway restart: written to the store on close, reported again after start', async () => {
    assert.ok(first, 'the first test ran');
    const before = (await usage()).apps[0]!;
    await h.stop();

    // On disk, with no gateway running.
    const store = new SqliteStore({ path: join(h.dir, 'berth.db') });
    await store.open();
    const rows = await store.queryUsage({ app });
    await store.close();
    const stored = rows.reduce((sum, r) => ({ running: sum.running + r.runningS, idle: sum.idle + r.idleS, requests: sum.requests + r.requests }), { running: 0, idle: 0, requests: 0 });
    assert.equal(stored.requests, REQUESTS);
    assert.ok(Math.abs(stored.running - before.runningSeconds) < 0.005, `stored running ${stored.running} s = ${before.runningSeconds} s reported`);
    assert.ok(stored.idle >= before.idleSeconds - 0.005, `stored idle ${stored.idle} s ≥ ${before.idleSeconds} s reported before the stop`);

    await h.start();
    assert.equal(state(), 'stopped');
    await sleep(300);
    const after = (await usage()).apps[0]!;
    assert.equal(after.requests, REQUESTS);
    assert.ok(Math.abs(after.runningSeconds - before.runningSeconds) < 0.005, 'no running time while stopped, or while the gateway was down');
    assert.ok(after.idleSeconds >= stored.idle + 0.25, `idle goes on from the new start: ${after.idleSeconds} s after ${stored.idle} s stored`);
    assert.ok(after.savingPercent! > 0);
  });

  test('the API refuses a bad since, lists the operation in OpenAPI, and defaults to the last 7 days', async () => {
    const bad = await h.api('GET', '/v1/usage?since=yesterdayish');
    assert.equal(bad.status, 400);
    assert.match(bad.text, /since/);
    const doc = await h.api('GET', '/v1/openapi.json');
    assert.ok(doc.json.paths['/v1/usage']?.get, 'GET /v1/usage documented');
    const all = await usage('');
    assert.equal(all.since, new Date(Date.now() - 7 * 86_400_000).toISOString().slice(0, 10));
    assert.ok(all.apps.some((a) => a.app === app));
  });

  test('berth usage prints the table and -o json parses', async (t) => {
    const env = cliEnv({ BERTH_URL: h.adminUrl, BERTH_TOKEN: h.adminToken, XDG_CONFIG_HOME: join(h.dir, 'xdg') });
    const json = await berthJson<UsageReport>(['usage', '--since', '2d', '--app', app], env);
    assert.equal(json.apps.length, 1);
    assert.equal(json.apps[0]!.app, app);
    assert.equal(json.apps[0]!.requests, REQUESTS);
    assert.ok(json.apps[0]!.runningSeconds >= IDLE_TIMEOUT_S);

    const text = await berth(['usage', '--app', app], env);
    assert.equal(text.code, 0, text.stderr);
    t.diagnostic(text.stdout.trimEnd());
    const [header, row] = text.stdout.trimEnd().split('\n');
    assert.match(header!, /^APP\s+RUNNING\s+PAUSED\s+IDLE\s+REQUESTS\s+SAVING$/);
    assert.match(row!, new RegExp(`^${app}\\s+\\S+( \\S+)?\\s+0s\\s+\\S+( \\S+)?\\s+${REQUESTS}\\s+\\d+\\.\\d%$`));
  });
});
