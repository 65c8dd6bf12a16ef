// `workers: 2` on the real engine, with `berth serve` as a child process:
// cold starts stay single-flight over both workers, an open WebSocket on one
// worker keeps its app up, a worker killed under load is replaced while the
// other keeps serving, and the history and /metrics count both workers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { cleanupByLabel, testRun } from '../support/docker-cleanup.js';
import { EngineEvents } from '../support/engine-events.js';
import { advAppYaml, GatewayProcess, workerPids } from '../support/gateway-process.js';
import { timedGet } from '../support/http-requests.js';
import { openWebSocket } from '../support/websocket-client.js';
import { parsePromText } from '../support/prom-text.js';
import { sleep, waitFor } from '../support/wait-for.js';

const run = testRun();
const herd = `wk${run.id}-herd`;
const ws = `wk${run.id}-ws`;
const load = `wk${run.id}-load`;
const runLabel = `berth-test-run=${run.id}`;
const T = { timeout: 60_000 };

/** Sends `n` GETs at once, each on its own connection; resolves every outcome (status or error). */
function burst(port: number, path: string, n: number): Array<Promise<string>> {
  return Array.from({ length: n }, () => timedGet(port, path, { timeoutMs: 30_000 }).then((r) => `${r.status}`, (err: Error) => `error ${err.message}`));
}

describe('workers: 2', () => {
  let gw: GatewayProcess;
  let events: EngineEvents;
  let pid: number;

  before(async () => {
    events = await EngineEvents.open(runLabel);
    gw = await GatewayProcess.start({
      extraConfig: 'workers: 2\n',
      apps: {
        [herd]: advAppYaml(herd, run.id, 'env: {STARTUP_DELAY_MS: "800"}\n'),
        [ws]: advAppYaml(ws, run.id, 'idleTimeout: 1s\n'),
        [load]: advAppYaml(load, run.id),
      },
    });
    pid = gw.pid!;
    await waitFor('two workers', () => workerPids(pid).length === 2, { timeoutMs: 10_000 });
  });

  after(async () => {
    events?.close();
    // Workers left stopped by a failed test would hold the shutdown up.
    for (const w of gw?.pid ? workerPids(gw.pid) : []) {
      try {
        process.kill(w, 'SIGCONT');
      } catch {
        // gone already
      }
    }
    await gw?.dispose();
    await cleanupByLabel(runLabel);
  });

  test('single flight: concurrent first requests on both workers start one container', T, async () => {
    const [a, b] = workerPids(pid) as [number, number];
    // Each half of the herd is accepted by one worker: the other is frozen meanwhile (the listening socket is shared).
    process.kill(a, 'SIGSTOP');
    const first = burst(gw.proxyPort, `/s/${herd}/ping`, 15);
    await sleep(150);
    process.kill(a, 'SIGCONT');
    process.kill(b, 'SIGSTOP');
    const second = burst(gw.proxyPort, `/s/${herd}/ping`, 15);
    await sleep(150);
    process.kill(b, 'SIGCONT');
    const outcomes = await Promise.all([...first, ...second]);
    assert.deepEqual(outcomes, Array.from({ length: 30 }, () => '200'));
    assert.equal(await events.settledCount(herd, 'start', 1, 500), 1, 'one container start for 30 requests over two workers');

    // (4) Every request of both workers is in the metrics and the history.
    // A batch of records is sent every 100 ms: polled for them, not a fixed 300 ms a loaded machine may not keep.
    const requestsOf = (samples: ReturnType<typeof parsePromText>['samples']) => samples.filter((s) => s.name === 'berth_requests_total' && s.labels.app === herd).reduce((sum, s) => sum + s.value, 0);
    const metrics = await waitFor('both workers\' records counted', async () => {
      const samples = parsePromText((await gw.api('GET', '/metrics')).json as string).samples;
      return requestsOf(samples) >= 30 ? samples : false;
    });
    const total = requestsOf(metrics);
    assert.equal(total, 30, 'berth_requests_total counts both workers');
    const byWorker = metrics.filter((s) => s.name === 'berth_worker_requests_total' && s.value > 0);
    assert.equal(byWorker.length, 2, `both workers served: ${JSON.stringify(byWorker)}`);
    const history = await waitFor('the history to hold all 30', async () => {
      const page = await gw.api('GET', `/v1/apps/${herd}/history?limit=100`);
      return page.json?.items?.length === 30 ? page.json.items : false;
    });
    assert.ok(history.every((r: { status: number; waited: boolean }) => r.status === 200 && r.waited), 'every record says it waited for the cold start');
  });

  test('an open WebSocket on one worker keeps the app up; it stops after the socket closes and the idle timeout', T, async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${gw.proxyPort}/s/${ws}/ws`);
    try {
      await waitFor('the WebSocket to open (it wakes the app)', () => socket.readyState === WebSocket.OPEN || (socket.readyState === WebSocket.CLOSED ? Promise.reject(new Error('closed')) : false), { timeoutMs: 15_000 });
      // Plain requests too, on either worker: they end, the socket stays.
      for (let i = 0; i < 4; i++) assert.equal((await timedGet(gw.proxyPort, `/s/${ws}/ping`)).status, 200);
      await sleep(2_500); // more than twice the idle timeout (1 s: a timer this test waits out, so short)
      assert.equal(await gw.appState(ws), 'running', 'not stopped while a WebSocket is open on a worker');
      const reply = await gw.api('GET', `/v1/apps/${ws}`);
      assert.equal(reply.json.status?.inFlight, 1, 'the control counts the worker’s open socket');
      const echoed = new Promise<string>((resolve) => socket.once('message', (data) => resolve(String(data))));
      socket.send('still here');
      assert.equal(await echoed, 'still here');
    } finally {
      socket.close();
    }
    const closedAt = performance.now();
    await waitFor('the idle stop after the socket closed', async () => (await gw.appState(ws)) === 'stopped', { timeoutMs: 8_000, intervalMs: 50 });
    const after = performance.now() - closedAt;
    assert.ok(after >= 900 && after < 4_000, `stopped ${Math.round(after)} ms after the socket closed (idle timeout 1 s)`);
  });

  test('a stop asked for with WebSockets open on the workers tells them to go away (1001) and does not wait out the drain', T, async () => {
    const opened = await Promise.all([0, 1, 2, 3].map(() => openWebSocket(`ws://127.0.0.1:${gw.proxyPort}/s/${ws}/ws`)));
    try {
      await waitFor('the control to count the workers’ sockets', async () => (await gw.api('GET', `/v1/apps/${ws}`)).json.status?.inFlight === 4, { timeoutMs: 5_000 });
      const asked = performance.now();
      const stop = await gw.api('POST', `/v1/apps/${ws}/stop`);
      assert.ok(stop.status < 300, `stop answered ${stop.status}`);
      assert.deepEqual(await Promise.all(opened.map((o) => o.closed)), [1001, 1001, 1001, 1001], 'Going Away, not a connection cut under them (1006)');
      await waitFor('the app to stop', async () => (await gw.appState(ws)) === 'stopped', { timeoutMs: 20_000, intervalMs: 50 });
      // The drain's bound is 30 s: waited on, open sockets held every such stop that long.
      const took = performance.now() - asked;
      assert.ok(took < 15_000, `stopped ${Math.round(took)} ms after it was asked`);
    } finally {
      for (const { socket } of opened) socket.terminate();
    }
  });

  test('a worker killed under load: the other keeps serving, a replacement appears and serves', T, async (t) => {
    assert.equal((await timedGet(gw.proxyPort, `/s/${load}/ping`)).status, 200, 'warm');
    const [victim, survivor] = workerPids(pid) as [number, number];
    let killedAt = Infinity;
    const outcomes: Array<{ began: number; ok: boolean; why: string }> = [];
    let stop = false;
    const client = async () => {
      while (!stop) {
        const began = performance.now();
        try {
          const reply = await timedGet(gw.proxyPort, `/s/${load}/ping`, { timeoutMs: 10_000 });
          outcomes.push({ began, ok: reply.status === 200, why: `${reply.status}` });
        } catch (err) {
          outcomes.push({ began, ok: false, why: (err as Error).message });
        }
      }
    };
    const clients = Array.from({ length: 8 }, client);
    await sleep(1_000);
    killedAt = performance.now();
    process.kill(victim, 'SIGKILL');
    await sleep(2_000);
    stop = true;
    await Promise.all(clients);
    const failed = outcomes.filter((o) => !o.ok);
    t.diagnostic(`${outcomes.length} requests, ${failed.length} failed: ${[...new Set(failed.map((f) => f.why))].join('; ')}`);
    // Only requests that were on the killed worker when it died may fail: at most one per client.
    assert.ok(failed.length <= 8, `${failed.length} failures`);
    assert.ok(failed.every((f) => f.began < killedAt), 'every request sent after the kill was served');
    assert.ok(outcomes.filter((o) => o.began > killedAt).length > 20, 'the survivor kept serving');

    const replacement = await waitFor('a replacement worker', () => workerPids(pid).find((p) => p !== survivor && p !== victim), { timeoutMs: 10_000 });
    await waitFor('the replacement to listen', async () => {
      // With the survivor frozen, only the replacement can accept.
      process.kill(survivor, 'SIGSTOP');
      try {
        const reply = await timedGet(gw.proxyPort, `/s/${load}/ping`, { timeoutMs: 1_000 }).catch(() => undefined);
        return reply?.status === 200;
      } finally {
        process.kill(survivor, 'SIGCONT');
      }
    }, { timeoutMs: 10_000, intervalMs: 200 });
    process.kill(survivor, 'SIGSTOP');
    try {
      const replies = await Promise.all(burst(gw.proxyPort, `/s/${load}/ping`, 10));
      assert.deepEqual(replies, Array.from({ length: 10 }, () => '200'), `the replacement (${replacement}) serves alone`);
    } finally {
      process.kill(survivor, 'SIGCONT');
    }
    gw.assertAlive('a worker was killed');
  });
});
