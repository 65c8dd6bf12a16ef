import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeRuntime, sleep } from '../support/fake-runtime.js';
import { eventually, fakeActivator, fakeSpec, waitForState } from '../support/fake-activator.js';

/**
 * A container that runs but does not serve (a start that failed, a start the last
 * gateway did not finish) is kept for the next start, but not forever: nobody
 * asking for the app for its idle timeout stops it, as it would a serving one.
 */

test('leftover: a never-ready container kept after one failed start is stopped after the idle timeout', async () => {
  const rt = new FakeRuntime();
  rt.behave('web', { neverReady: true });
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web', { startTimeout: '200ms', idleTimeout: '400ms' })]);
    await assert.rejects(a.acquire('web'));
    assert.equal(a.status('web')?.state, 'failed');
    assert.equal(rt.running('web').length, 1, 'kept up for the next try');
    await eventually('the never-ready container is stopped', () => rt.running('web').length === 0);
    assert.equal(a.status('web')?.state, 'failed', 'the failure stays shown');
    assert.match(a.status('web')?.lastError ?? '', /not ready in time/);
  } finally {
    a.close();
    await rt.close();
  }
});

test('leftover: the next start takes the kept container, and the leftover stop does not touch it once it serves', async () => {
  const rt = new FakeRuntime();
  // Not ready through the first start, made ready after it failed: no readiness races a start timeout.
  rt.behave('web', { neverReady: true });
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web', { startTimeout: '1s', idleTimeout: '1500ms' })]);
    await assert.rejects(a.acquire('web'));
    const kept = rt.running('web')[0]!.id;
    // Ready 0.5 s after the failure: the leftover's idle timeout (counted from the failure) falls due 0.5 s before
    // the serving app's (counted from its readiness), and timers fire in that order however late the loop runs.
    await sleep(500);
    rt.containers.get(kept)!.readyAtMs = performance.now();
    const up = await a.acquire('web');
    assert.equal(up.instanceId, kept, 'the slow container was taken, not made again');
    await eventually('idle-stopped', () => a.status('web')?.state === 'stopped', 10_000);
    assert.equal(a.status('web')?.reason, 'idle', 'stopped for idleness, not by the leftover stop');
    assert.equal(rt.calls.start, 2);
  } finally {
    a.close();
    await rt.close();
  }
});

test('leftover: a gateway killed mid-start of a never-ready app; the next one keeps the container only for the idle timeout', async () => {
  const rt = new FakeRuntime();
  rt.behave('web', { neverReady: true });
  const first = fakeActivator(rt);
  const second = fakeActivator(rt);
  try {
    const spec = fakeSpec('web', { startTimeout: '5s', idleTimeout: '500ms' });
    await first.reconcile([spec]);
    void first.acquire('web').catch(() => undefined);
    await waitForState(first, 'web', 'starting');
    await eventually('container running', () => rt.running('web').length === 1);
    first.close();
    await second.reconcile([spec]);
    assert.equal(second.status('web')?.state, 'stopped');
    await eventually('the never-ready container is stopped', () => rt.running('web').length === 0);
  } finally {
    first.close();
    second.close();
    await rt.close();
  }
});

test('leftover: a gateway killed mid-start of a slow app; a request to the next one takes that container, no second one is made', async () => {
  const rt = new FakeRuntime();
  rt.behave('web', { readyAfterMs: 2_500 });
  const first = fakeActivator(rt);
  const second = fakeActivator(rt);
  try {
    const spec = fakeSpec('web', { startTimeout: '5s' });
    await first.reconcile([spec]);
    void first.acquire('web').catch(() => undefined);
    await eventually('container running', () => rt.running('web').length === 1);
    const started = rt.running('web')[0]!.id;
    first.close();
    await second.reconcile([spec]);
    const up = await second.acquire('web');
    assert.equal(up.instanceId, started);
    assert.equal(rt.containers.size, 1);
    assert.equal(second.status('web')?.state, 'running');
  } finally {
    first.close();
    second.close();
    await rt.close();
  }
});

test('leftover: a stop through the API stops the container a failed start kept', async () => {
  const rt = new FakeRuntime();
  rt.behave('web', { neverReady: true });
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web', { startTimeout: '200ms' })]);
    await assert.rejects(a.acquire('web'));
    assert.equal(rt.running('web').length, 1);
    await a.controller('web')!.stop('stopped through the API');
    assert.equal(rt.running('web').length, 0);
  } finally {
    a.close();
    await rt.close();
  }
});

test('leftover: a replica that never gets ready is stopped and kept, not left running outside the rotation', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web', { startTimeout: '300ms', scale: { min: 0, max: 2, replicas: 1 } })]);
    const first = await a.acquire('web');
    rt.behave('web', { neverReady: true });
    await a.controller('web')!.setReplicas(2);
    await eventually('the failed replica is stopped', () => rt.running('web').length === 1);
    assert.equal(rt.running('web')[0]!.id, first.instanceId);
    assert.equal(a.controller('web')!.containerCount, 2, 'kept for the next try');
    await a.controller('web')!.stop('stopped through the API');
    assert.equal(rt.running('web').length, 0);
  } finally {
    a.close();
    await rt.close();
  }
});

test('leftover: an instance whose health-check restart never gets ready is stopped, and the app says stopped truly', async () => {
  const rt = new FakeRuntime();
  rt.behave('web', { sickAfterMs: 250 });
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web', { startTimeout: '300ms', health: { path: '/healthz', interval: '30ms', timeout: '200ms', unhealthyThreshold: 2 } })]);
    await a.acquire('web');
    // Its restart comes up broken.
    rt.behave('web', { neverReady: true });
    await waitForState(a, 'web', 'stopped', 5_000);
    // What the checks saw is in the reason, not only that they failed.
    assert.match(a.status('web')?.reason ?? '', /failed its health checks \(health check \/healthz answered 500\) and did not get ready again/);
    await eventually('the broken container is stopped', () => rt.running('web').length === 0);
    assert.equal(a.controller('web')!.containerCount, 1, 'kept for the next start');
  } finally {
    a.close();
    await rt.close();
  }
});
