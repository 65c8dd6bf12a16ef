// Metrics and request ids against the real engine: a gateway in this process,
// real traffic through its proxy, the Prometheus endpoint on the admin
// listener parsed and checked against what was sent.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appPath, testAppYaml } from '../support/app-spec.js';
import { cleanupByLabel, testRun } from '../support/docker-cleanup.js';
import { GatewayHarness } from '../support/gateway-harness.js';
import { concurrentGets, timedGet } from '../support/http-requests.js';
import { parsePromText, promValue, type PromText } from '../support/prom-text.js';
import { waitFor } from '../support/wait-for.js';

const run = testRun();
const web = `mt${run.id}-web`;
const idle = `mt${run.id}-idle`;
const T = { timeout: 30_000 };

describe('metrics endpoint and request ids', () => {
  let h: GatewayHarness;
  const status = (app: string) => h.gateway?.statuses().find((s) => s.name === app);

  async function scrape(path = '/v1/metrics'): Promise<PromText> {
    const reply = await h.api('GET', path);
    assert.equal(reply.status, 200, reply.text);
    return parsePromText(reply.text);
  }

  before(async () => {
    h = await GatewayHarness.create(run.labels);
    await h.writeConfig('defaults:\n  idleTimeout: 1m\n');
    await h.writeApp('web.yaml', testAppYaml(web));
    await h.writeApp('idle.yaml', testAppYaml(idle, 'idleTimeout: 1s\n'));
    await h.start();
  });

  after(async () => {
    await h?.dispose();
    await cleanupByLabel(run.label);
  });

  test('/v1/metrics and /metrics need the admin token', async () => {
    for (const path of ['/v1/metrics', '/metrics']) {
      assert.equal((await h.api('GET', path, { token: null })).status, 401, `${path} without a token`);
      assert.equal((await h.api('GET', path, { token: 'berth_wrong' })).status, 401, `${path} with a wrong token`);
      const ok = await h.api('GET', path);
      assert.equal(ok.status, 200, path);
      assert.match(ok.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const text = parsePromText(ok.text);
      assert.equal(text.types.get('berth_requests_total'), 'counter');
      assert.ok(promValue(text, 'berth_process_resident_memory_bytes') > 0, 'process metrics are there');
      assert.equal(promValue(text, 'berth_app_state', { app: web, state: 'stopped' }), 1);
    }
  });

  test('a cold start shows as an ok cold start with its duration, and its request as waited', T, async () => {
    const before = await scrape();
    assert.equal(promValue(before, 'berth_cold_starts_total', { app: web }), 0);
    const reply = await timedGet(h.port, appPath(web, '/ping'));
    assert.equal(reply.status, 200);
    const startMs = status(web)?.lastStartMs;
    assert.equal(typeof startMs, 'number');
    const after = await scrape('/metrics');
    assert.equal(promValue(after, 'berth_cold_starts_total', { app: web, result: 'ok' }), 1);
    assert.equal(promValue(after, 'berth_cold_starts_total', { app: web, result: 'failed' }), 0);
    assert.equal(promValue(after, 'berth_cold_start_duration_seconds_count', { app: web }), 1);
    assert.ok(Math.abs(promValue(after, 'berth_cold_start_duration_seconds_sum', { app: web }) - startMs! / 1000) < 1e-9, 'the duration is the status’s lastStartMs');
    assert.equal(promValue(after, 'berth_requests_total', { app: web, code_class: '2xx', cold_start: 'true' }), 1);
    assert.equal(promValue(after, 'berth_app_state', { app: web, state: 'running' }), 1);
    assert.equal(promValue(after, 'berth_instances', { app: web, state: 'ready' }), 1);
    assert.ok(promValue(after, 'berth_container_seconds_total', { app: web, state: 'running' }) > 0, 'container-seconds run while it is up');
  });

  test('berth_requests_total grows by exactly the requests sent, by status class', T, async () => {
    // Up (a cold start, should this test run alone), so none of the counted requests waits.
    assert.equal((await timedGet(h.port, appPath(web, '/ping'))).status, 200);
    const before = await scrape();
    const count = (t: PromText, codeClass: string) => promValue(t, 'berth_requests_total', { app: web, code_class: codeClass });
    const durations = (t: PromText) => promValue(t, 'berth_request_duration_seconds_count', { app: web });
    const ok = await concurrentGets(h.port, appPath(web, '/ping'), 20);
    for (let i = 0; i < 5; i++) ok.push(await timedGet(h.port, appPath(web, '/ping')));
    assert.ok(ok.every((r) => r.status === 200));
    for (let i = 0; i < 3; i++) assert.equal((await timedGet(h.port, appPath(web, '/status/404'))).status, 404);
    for (let i = 0; i < 2; i++) assert.equal((await timedGet(h.port, appPath(web, '/status/503'))).status, 503);
    const after = await scrape();
    assert.equal(count(after, '2xx') - count(before, '2xx'), 25);
    assert.equal(count(after, '4xx') - count(before, '4xx'), 3);
    assert.equal(count(after, '5xx') - count(before, '5xx'), 2);
    assert.equal(durations(after) - durations(before), 30, 'every request has a duration');
    assert.equal(promValue(after, 'berth_requests_total', { app: web, cold_start: 'true' }), promValue(before, 'berth_requests_total', { app: web, cold_start: 'true' }), 'none of them waited');
    const inf = promValue(after, 'berth_request_duration_seconds_bucket', { app: web, le: '+Inf' });
    assert.equal(inf, durations(after));
  });

  test('every request gets an id, answered to the client and sent to the app', T, async () => {
    const a = await timedGet(h.port, appPath(web, '/echo'));
    const b = await timedGet(h.port, appPath(web, '/echo'));
    const idA = a.headers['x-request-id'];
    assert.equal(typeof idA, 'string');
    assert.notEqual(idA, b.headers['x-request-id'], 'ids differ');
    assert.equal(JSON.parse(a.body).headers['x-request-id'], idA, 'the app saw the same id');
  });

  test('a sane client X-Request-Id is passed through; anything else is replaced', T, async () => {
    const given = 'trace-4bf92f3577b34da6.a3ce929d0e0e4736';
    const kept = await timedGet(h.port, appPath(web, '/echo'), { headers: { 'X-Request-Id': given } });
    assert.equal(kept.headers['x-request-id'], given);
    assert.equal(JSON.parse(kept.body).headers['x-request-id'], given);
    for (const bad of ['has spaces in it', 'x'.repeat(129)]) {
      const replaced = await timedGet(h.port, appPath(web, '/echo'), { headers: { 'X-Request-Id': bad } });
      const id = replaced.headers['x-request-id'];
      assert.equal(typeof id, 'string');
      assert.notEqual(id, bad);
      assert.equal(JSON.parse(replaced.body).headers['x-request-id'], id, 'the app got only the replacement');
    }
  });

  test('an idle stop is counted, and container-seconds stop growing once stopped', T, async () => {
    assert.equal((await timedGet(h.port, appPath(idle, '/ping'))).status, 200);
    await waitFor('the idle app to stop', () => status(idle)?.state === 'stopped' && status(idle)?.reason === 'idle', { timeoutMs: 10_000 });
    const first = await scrape();
    assert.equal(promValue(first, 'berth_idle_stops_total', { app: idle }), 1);
    assert.equal(promValue(first, 'berth_cold_starts_total', { app: idle, result: 'ok' }), 1);
    const seconds = promValue(first, 'berth_container_seconds_total', { app: idle, state: 'running' });
    assert.ok(seconds >= 1, `up at least its 1s idle timeout (${seconds})`);
    assert.ok(seconds < 15, `not more than it lived (${seconds})`);
    await new Promise((r) => setTimeout(r, 300));
    const second = await scrape();
    assert.equal(promValue(second, 'berth_container_seconds_total', { app: idle, state: 'running' }), seconds, 'a stopped app accrues nothing');
  });
});
