// Scale from zero, the stop side: idle apps are stopped (or paused) after their
// idle timeout and not before, open WebSockets keep them up, a request racing
// an idle stop is served, and an app that exits by itself comes back on the
// next request (seed 000). Runs a real gateway on the real engine.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { appPath, testAppYaml } from '../support/app-spec.js';
import { inspectAppContainer } from '../support/app-container.js';
import { cleanupByLabel, testDocker, testRun } from '../support/docker-cleanup.js';
import { EngineEvents } from '../support/engine-events.js';
import { GatewayHarness } from '../support/gateway-harness.js';
import { openWebSocket } from '../support/websocket-client.js';
import { concurrentGets, timedGet } from '../support/http-requests.js';
import { sleep, waitFor } from '../support/wait-for.js';

const run = testRun();
const idle = `sz${run.id}-idle`;
const ws = `sz${run.id}-ws`;
const race = `sz${run.id}-race`;
const pause = `sz${run.id}-pause`;
const self = `sz${run.id}-self`;
const slowPage = `sz${run.id}-slowpage`;
const removed = `sz${run.id}-removed`;
const BROWSER = { accept: 'text/html', 'sec-fetch-mode': 'navigate' };
const T = { timeout: 30_000 };

describe('scale from zero: idle stop, pause and self-exit', () => {
  let h: GatewayHarness;
  let events: EngineEvents;
  const status = (app: string) => h.gateway?.statuses().find((s) => s.name === app);
  const containerStatus = async (app: string) => (await inspectAppContainer(app, run.label))?.State.Status;

  before(async () => {
    events = await EngineEvents.open(run.label);
    h = await GatewayHarness.create(run.labels);
    await h.writeConfig('defaults:\n  idleTimeout: 1m\n');
    await h.writeApp('idle.yaml', testAppYaml(idle, 'idleTimeout: 2s\n'));
    await h.writeApp('ws.yaml', testAppYaml(ws, 'idleTimeout: 1s\n'));
    await h.writeApp('race.yaml', testAppYaml(race, 'idleTimeout: 1s\n'));
    await h.writeApp('pause.yaml', testAppYaml(pause, 'idleTimeout: 1s\nidleAction: pause\n'));
    await h.writeApp('self.yaml', testAppYaml(self));
    // Takes longer to start than its idle timeout.
    await h.writeApp('slowpage.yaml', testAppYaml(slowPage, 'idleTimeout: 1s\nenv: {STARTUP_DELAY_MS: "1500"}\n'));
    await h.writeApp('removed.yaml', testAppYaml(removed, 'idleTimeout: 1s\nremoveAfter: 1s\nvolume: /data\n'));
    await h.start();
  });

  after(async () => {
    events?.close();
    await h?.dispose();
    await cleanupByLabel(run.label);
  });

  test('an app is stopped after its idle timeout, not before, and the next request wakes it', T, async () => {
    assert.equal((await timedGet(h.port, appPath(idle, '/ping'))).status, 200);
    const lastRequest = performance.now();
    const idleAt = status(idle)?.idleAt;
    assert.ok(idleAt, 'the status says when it will go idle');
    const expected = idleAt.getTime() - Date.now();
    assert.ok(expected > 1_500 && expected <= 2_000, `idleAt is about 2s away (${expected} ms)`);

    // Counted from the last request, not slept one after the other: the engine's inspect between the two looks
    // can take half a second on a loaded machine, which would put the second look past the idle timeout.
    await sleep(lastRequest + 1_000 - performance.now());
    assert.equal(status(idle)?.state, 'running', 'still running 1 s after the last request');
    assert.equal(await containerStatus(idle), 'running');
    await sleep(lastRequest + 1_500 - performance.now());
    assert.equal(status(idle)?.state, 'running', 'still running 1.5 s after the last request');

    await waitFor('the idle stop', () => status(idle)?.state === 'stopped', { timeoutMs: 3_000, intervalMs: 10 });
    const stoppedAfter = performance.now() - lastRequest;
    assert.ok(stoppedAfter >= 1_950 && stoppedAfter < 4_000, `stopped ${Math.round(stoppedAfter)} ms after the last request`);
    const info = await inspectAppContainer(idle, run.label);
    assert.equal(info?.State.Status, 'exited', 'stopped, not removed');
    assert.equal(status(idle)?.idleAt, undefined);

    const again = await timedGet(h.port, appPath(idle, '/ping'));
    assert.equal(again.status, 200);
    assert.equal(again.body, 'pong');
    assert.equal(status(idle)?.state, 'running');
    assert.equal((await inspectAppContainer(idle, run.label))?.Id, info?.Id, 'the same container was started again');
    assert.equal(await events.settledCount(idle, 'start', 2), 2);
  });

  test('an open WebSocket keeps the app up past its idle timeout; it stops once the socket closes', T, async () => {
    assert.equal(status(ws)?.state, 'stopped');
    const socket = new WebSocket(`ws://127.0.0.1:${h.port}${appPath(ws, '/ws')}`);
    try {
      await waitFor('the WebSocket to open (it wakes the app)', () => socket.readyState === WebSocket.OPEN || (socket.readyState === WebSocket.CLOSED ? Promise.reject(new Error('closed')) : false), { timeoutMs: 10_000, intervalMs: 10 });
      const echoed = new Promise<string>((resolve) => socket.once('message', (data) => resolve(String(data))));
      socket.send('still here');
      assert.equal(await echoed, 'still here');
      assert.equal(status(ws)?.state, 'running');

      await sleep(2_200); // twice the idle timeout (1 s: a timer this test waits out, so short), with nothing sent
      assert.equal(status(ws)?.state, 'running', 'not stopped while a WebSocket is open');
      assert.equal(status(ws)?.inFlight, 1);
      assert.equal(await containerStatus(ws), 'running');
      const still = new Promise<string>((resolve) => socket.once('message', (data) => resolve(String(data))));
      socket.send('and again');
      assert.equal(await still, 'and again');
    } finally {
      socket.close();
    }
    await waitFor('the socket to close', () => status(ws)?.inFlight === 0, { timeoutMs: 3_000, intervalMs: 10 });
    const closedAt = performance.now();
    await waitFor('the idle stop after the socket closed', () => status(ws)?.state === 'stopped', { timeoutMs: 5_000, intervalMs: 10 });
    const after = performance.now() - closedAt;
    assert.ok(after >= 800 && after < 3_000, `stopped ${Math.round(after)} ms after the socket closed (idle timeout 1 s)`);
    assert.equal(await containerStatus(ws), 'exited');
  });

  test('a stop asked for with a WebSocket open tells it to go away (1001) and does not wait out the drain', T, async () => {
    const { closed } = await openWebSocket(`ws://127.0.0.1:${h.port}${appPath(ws, '/ws')}`);
    assert.equal(status(ws)?.inFlight, 1);
    const asked = performance.now();
    const stop = await h.api('POST', `/v1/apps/${ws}/stop`);
    assert.ok(stop.status < 300, `stop answered ${stop.status}: ${stop.text}`);
    assert.equal(await closed, 1001, 'Going Away, not a connection cut under it (1006)');
    await waitFor('the app to stop', () => status(ws)?.state === 'stopped', { timeoutMs: 20_000, intervalMs: 20 });
    // The drain's bound is 30 s: waited on, the open socket held every such stop that long.
    const took = performance.now() - asked;
    assert.ok(took < 15_000, `stopped ${Math.round(took)} ms after it was asked`);
    assert.equal(await containerStatus(ws), 'exited');
  });

  test('requests racing an idle stop wait for it and are served, never 502', T, async () => {
    for (let round = 0; round < 3; round++) {
      assert.equal((await timedGet(h.port, appPath(race, '/ping'))).status, 200);
      // Catch the app in the middle of its stop (the gateway runs in this process).
      await waitFor(`round ${round}: the idle stop to begin`, () => status(race)?.state === 'stopping', { timeoutMs: 4_000, intervalMs: 1 });
      const replies = await concurrentGets(h.port, appPath(race, '/ping'), 10, { timeoutMs: 15_000 });
      assert.deepEqual(
        replies.map((r) => `${r.status} ${r.body}`),
        Array.from({ length: 10 }, () => '200 pong'),
        `round ${round}: every racing request served`,
      );
      assert.equal(status(race)?.state, 'running');
      assert.equal(await containerStatus(race), 'running');
    }
    assert.equal(await events.settledCount(race, 'start', 4), 4, 'started once, then woken after each of the 3 stops');

    // And requests sent around the idle deadline itself, without waiting for state changes.
    const idleAt = status(race)?.idleAt?.getTime();
    assert.ok(idleAt);
    const offsets = [-20, -5, 0, 2, 5, 10, 20, 40, 80, 160];
    const sent = offsets.map(async (offset) => {
      await sleep(Math.max(0, idleAt + offset - Date.now()));
      return timedGet(h.port, appPath(race, '/ping'), { timeoutMs: 15_000 });
    });
    const replies = await Promise.all(sent);
    assert.deepEqual(replies.map((r) => r.status), offsets.map(() => 200));
  });

  test('an app woken by a waiting page gets its whole idle timeout once ready, however long it took to start', T, async () => {
    const url = appPath(slowPage, '/ping');
    assert.equal((await timedGet(h.port, url, { headers: BROWSER })).status, 503, 'the waiting page');
    // The page's request ended at once; the start takes 1.5 s, longer than the 1 s idle timeout.
    await waitFor('the status endpoint to say ready', async () => (JSON.parse((await timedGet(h.port, `/_berth/status/${slowPage}`)).body) as { ready: boolean }).ready, { timeoutMs: 10_000, intervalMs: 100 });
    const readyAt = performance.now();
    // 300 ms, not 500: the reload below must land within the 1 s idle timeout counted from the ready (seen up to a
    // poll late), which a loaded machine did not leave room for after 500 ms. A stop at the ready is decided at once.
    await sleep(300);
    assert.equal(status(slowPage)?.state, 'running', 'not stopped the moment it became ready');
    const landed = await timedGet(h.port, url, { headers: BROWSER });
    assert.equal(landed.status, 200, 'the page’s reload lands on the app');
    assert.equal(landed.body, 'pong');
    assert.ok(performance.now() - readyAt < 1_000);
    assert.equal(await events.settledCount(slowPage, 'start', 1), 1, 'one start, no stop-and-start again');
  });

  test('removeAfter: a long-stopped app’s container is removed, its volume kept, and the next request recreates it', T, async () => {
    assert.equal((await timedGet(h.port, appPath(removed, '/ping'))).status, 200);
    const first = await inspectAppContainer(removed, run.label);
    assert.ok(first);
    await waitFor('the idle stop', () => status(removed)?.state === 'stopped', { timeoutMs: 4_000, intervalMs: 20 });
    await waitFor('the container to be removed', async () => (await inspectAppContainer(removed, run.label)) === undefined, { timeoutMs: 4_000, intervalMs: 50 });
    const volume = await testDocker().getVolume(`berth-${removed}-data`).inspect();
    assert.equal(volume.Labels?.['berth.app'], removed, 'the volume is kept');
    assert.equal(status(removed)?.state, 'stopped');
    const again = await timedGet(h.port, appPath(removed, '/ping'));
    assert.equal(again.status, 200);
    const second = await inspectAppContainer(removed, run.label);
    assert.notEqual(second?.Id, first.Id, 'a new container');
    assert.equal(second?.State.Status, 'running');
  });

  test('idleAction pause: the idle app is paused, and the next request unpauses it quickly', T, async () => {
    assert.equal((await timedGet(h.port, appPath(pause, '/ping'))).status, 200);
    await waitFor('the idle pause', () => status(pause)?.state === 'paused', { timeoutMs: 4_000, intervalMs: 10 });
    const info = await inspectAppContainer(pause, run.label);
    assert.equal(info?.State.Paused, true);
    assert.equal(info?.State.Status, 'paused');

    const woken = await timedGet(h.port, appPath(pause, '/echo?woken=1'));
    assert.equal(woken.status, 200);
    assert.equal((JSON.parse(woken.body) as { query: { woken: string } }).query.woken, '1');
    // Not 500 ms: a loaded machine's engine takes that for an unpause; that it was unpaused, not started anew, is counted below.
    assert.ok(woken.ms < 1_000, `unpaused quickly (${Math.round(woken.ms)} ms)`);
    assert.equal(status(pause)?.state, 'running');
    const after = await inspectAppContainer(pause, run.label);
    assert.equal(after?.State.Paused, false);
    assert.equal(after?.State.Status, 'running');
    assert.equal(await events.settledCount(pause, 'unpause', 1), 1);
    assert.equal(events.count(pause, 'start'), 1, 'woken by unpause, not a new start');
  });

  // Six starts of its container one after another (each a few seconds on a loaded engine): 30 s ran out once.
  test('seed 000: a container that exits by itself becomes stopped, and the next request brings it back', { timeout: 60_000 }, async () => {
    assert.equal((await timedGet(h.port, appPath(self, '/ping'))).status, 200);
    const first = await inspectAppContainer(self, run.label);

    // The app quits on its own (like seed 000's minions when idle).
    const exit = await timedGet(h.port, appPath(self, '/exit?code=0'));
    assert.equal(exit.status, 200);
    await waitFor('the engine’s die event to stop the app', () => status(self)?.state === 'stopped', { timeoutMs: 5_000, intervalMs: 10 });
    assert.equal(await containerStatus(self), 'exited');
    const back = await timedGet(h.port, appPath(self, '/ping'));
    assert.equal(back.status, 200);
    assert.equal(back.body, 'pong');
    assert.equal(status(self)?.state, 'running');

    // Someone stops it with the engine's own tools.
    await testDocker().getContainer(first!.Id).stop({ t: 5 });
    await waitFor('the engine’s die event to stop the app', () => status(self)?.state === 'stopped', { timeoutMs: 5_000, intervalMs: 10 });
    const again = await timedGet(h.port, appPath(self, '/ping'));
    assert.equal(again.status, 200);
    assert.equal(again.body, 'pong');
    assert.equal(status(self)?.state, 'running');
    assert.equal((await inspectAppContainer(self, run.label))?.Id, first?.Id, 'the same container each time');
    assert.equal(await events.settledCount(self, 'start', 3), 3);
    assert.equal(status(self)?.lastError, undefined, 'a clean exit is not an error');

    // A request sent the moment the app has exited, before the engine's die event is seen.
    for (let i = 0; i < 3; i++) {
      assert.equal((await timedGet(h.port, appPath(self, '/exit?code=0'))).status, 200);
      const raced = await timedGet(h.port, appPath(self, '/ping'));
      assert.equal(`${raced.status} ${raced.body}`, '200 pong', `request ${i} right after the exit`);
    }
    assert.equal(status(self)?.state, 'running');
  });
});
