// An engine outage ends for the apps as soon as the engine answers again, not
// when the Retry-After it was given runs out: the admission gate probes the engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineUnavailableError } from '../../src/errors.js';
import { FakeRuntime, sleep } from '../support/fake-runtime.js';
import { eventually, fakeActivator, fakeSpec } from '../support/fake-activator.js';

test('engine outage: 503 with Retry-After and the reason, not crashloop; the first request after the engine is back starts the app at once', async () => {
  const rt = new FakeRuntime();
  // A long Retry-After: only a probe that finds the engine back ends the outage within the test's waits.
  rt.engineRetryAfterS = 10;
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web')]);
    rt.engineDown = true;
    for (let i = 0; i < 4; i++) {
      await assert.rejects(a.acquire('web'), (e: unknown) => e instanceof EngineUnavailableError && e.code === 'engine_unavailable' && e.retryAfterS >= 4 && /did not answer/.test(e.message));
    }
    assert.equal(a.status('web')?.state, 'failed', 'the engine, not the app');
    assert.ok((a.controller('web')?.retryDelayMs() ?? 0) >= 3_500, 'starts are refused for the Retry-After');
    // Polled, not slept: on a loaded machine 600 ms could hold fewer than two 250 ms probe rounds.
    await eventually('the engine probed again while down', () => rt.calls.probe >= 2);
    const retryAfterMs = a.controller('web')?.retryDelayMs() ?? 0;
    rt.engineDown = false;
    const began = performance.now();
    // The next probe (every 250 ms) opens the gate; without it the gate opens only when the Retry-After runs out.
    await eventually('the gate to find the engine back', () => a.controller('web')?.retryDelayMs() === 0, retryAfterMs + 2_000);
    const up = await a.acquire('web');
    const tookMs = performance.now() - began;
    assert.ok(up.port > 0);
    assert.equal(a.status('web')?.state, 'running');
    assert.ok(tookMs < retryAfterMs - 1_000, `started ${Math.round(tookMs)} ms after the engine came back, Retry-After was ${retryAfterMs} ms`);
  } finally {
    a.close();
    await rt.close();
  }
});

test('engine outage: probes stop when the app is closed', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web')]);
    rt.engineDown = true;
    await assert.rejects(a.acquire('web'), EngineUnavailableError);
    await sleep(300);
    a.close();
    await sleep(300);
    const after = rt.calls.probe;
    await sleep(600);
    assert.equal(rt.calls.probe, after, 'no probe after close');
  } finally {
    a.close();
    await rt.close();
  }
});

test('a start the engine carried out, its answer lost: once the engine answers again the running container is adopted, not left behind a failed app', async () => {
  const rt = new FakeRuntime();
  rt.behaviour.set('web', { startAnswerLost: true });
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web')]);
    await assert.rejects(a.acquire('web'), EngineUnavailableError);
    const id = [...rt.containers.values()].find((c) => c.instance.app === 'web')!.instance.id;
    assert.equal((await rt.inspect(id))?.state, 'running', 'the engine did start it');
    // The engine answers the gate's first probe: the app follows its container within the resync this asks for
    // (the activator's own resync, every 10 s, does not come within the test).
    const deadline = performance.now() + 5_000;
    while (a.status('web')?.state !== 'running' && performance.now() < deadline) await sleep(25);
    assert.equal(a.status('web')?.state, 'running', `the app shows ${a.status('web')?.state} while its container runs`);
    const up = await a.acquire('web');
    assert.ok(up.port > 0);
    assert.equal(rt.calls.start, 1, 'served by the container the lost start ran, not started again');
    assert.deepEqual(rt.doubleStarts, []);
  } finally {
    a.close();
    await rt.close();
  }
});
