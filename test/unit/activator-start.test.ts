import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeRuntime, sleep } from '../support/fake-runtime.js';
import { eventually, fakeActivator, fakeSpec, waitForState } from '../support/fake-activator.js';

test('single flight: 100 concurrent requests on a stopped app make one start', async () => {
  const rt = new FakeRuntime();
  rt.behave('web', { startDelayMs: 20, readyAfterMs: 50 });
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web')]);
    assert.equal(a.status('web')?.state, 'stopped');
    assert.equal(rt.calls.start, 0, 'apply creates the container but does not start it');
    const upstreams = await Promise.all(Array.from({ length: 100 }, () => a.acquire('web')));
    assert.equal(rt.calls.start, 1);
    assert.equal(new Set(upstreams.map((u) => u.instanceId)).size, 1);
    assert.equal(a.status('web')?.state, 'running');
    assert.equal(rt.running('web').length, 1);
  } finally {
    a.close();
    await rt.close();
  }
});

test('a request on a running app does not touch the engine', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web')]);
    await a.acquire('web');
    const calls = { ...rt.calls };
    for (let i = 0; i < 50; i++) assert.ok(a.pick('web'));
    await a.acquire('web');
    assert.deepEqual(rt.calls, calls);
  } finally {
    a.close();
    await rt.close();
  }
});

test('a container started outside berth shows running and is idle-stopped after its idleTimeout', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web', { idleTimeout: '200ms' })]);
    const [container] = await rt.list({ app: 'web' });
    assert.ok(container);
    await rt.outsideStart(container.id);
    await waitForState(a, 'web', 'running');
    assert.equal(a.pick('web')?.instanceId, container.id, 'the adopted container serves');
    await waitForState(a, 'web', 'stopped', 2_000);
    assert.equal(a.status('web')?.reason, 'idle');
    assert.equal(rt.running('web').length, 0, 'berth stopped it');
  } finally {
    a.close();
    await rt.close();
  }
});

test('a container stopped, killed or removed behind berth’s back is noticed', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web')]);
    let up = await a.acquire('web');
    await rt.outsideStop(up.instanceId);
    await waitForState(a, 'web', 'stopped');
    assert.equal(a.pick('web'), undefined);
    up = await a.acquire('web');
    assert.equal(a.status('web')?.state, 'running');
    await rt.outsideKill(up.instanceId, 137);
    await waitForState(a, 'web', 'stopped');
    assert.match(a.status('web')?.lastError ?? '', /exited with code 137/);
    await rt.outsideRemove(up.instanceId);
    await sleep(20);
    const again = await a.acquire('web');
    assert.notEqual(again.instanceId, up.instanceId, 'a removed container is made again');
    assert.equal(a.status('web')?.state, 'running');
  } finally {
    a.close();
    await rt.close();
  }
});

test('gateway restart: a new activator adopts a running app without starting anything', async () => {
  const rt = new FakeRuntime();
  const first = fakeActivator(rt);
  const second = fakeActivator(rt);
  try {
    await first.reconcile([fakeSpec('web')]);
    const up = await first.acquire('web');
    first.close();
    const starts = rt.calls.start;
    await second.reconcile([fakeSpec('web')]);
    assert.equal(second.status('web')?.state, 'running');
    assert.equal(second.pick('web')?.instanceId, up.instanceId);
    assert.equal(rt.calls.start, starts);
  } finally {
    first.close();
    second.close();
    await rt.close();
  }
});

test('gateway restart: a stopped app stays stopped and starts its kept container on demand', async () => {
  const rt = new FakeRuntime();
  const first = fakeActivator(rt);
  const second = fakeActivator(rt);
  try {
    await first.reconcile([fakeSpec('web')]);
    const up = await first.acquire('web');
    await first.controller('web')!.stop('test', 100);
    assert.equal(first.status('web')?.state, 'stopped');
    first.close();
    await second.reconcile([fakeSpec('web')]);
    assert.equal(second.status('web')?.state, 'stopped');
    assert.equal((await second.acquire('web')).instanceId, up.instanceId, 'the same container is started again');
  } finally {
    first.close();
    second.close();
    await rt.close();
  }
});

test('gateway restart: a paused app is adopted as paused and unpaused on demand', async () => {
  const rt = new FakeRuntime();
  const first = fakeActivator(rt);
  const second = fakeActivator(rt);
  try {
    await first.reconcile([fakeSpec('web', { idleTimeout: '100ms', idleAction: 'pause' })]);
    const up = await first.acquire('web');
    await waitForState(first, 'web', 'paused');
    first.close();
    await second.reconcile([fakeSpec('web', { idleTimeout: '100ms', idleAction: 'pause' })]);
    assert.equal(second.status('web')?.state, 'paused');
    assert.equal((await second.acquire('web')).instanceId, up.instanceId);
    assert.equal(second.status('web')?.state, 'running');
  } finally {
    first.close();
    second.close();
    await rt.close();
  }
});

test('gateway restart: after a failed start or a crash loop the app is stopped and starts once fixed', async () => {
  for (const failures of [1, 3]) {
    const rt = new FakeRuntime();
    rt.behave('web', { startError: () => new Error('exec format error') });
    const first = fakeActivator(rt);
    const second = fakeActivator(rt);
    try {
      await first.reconcile([fakeSpec('web')]);
      for (let i = 0; i < failures; i++) await assert.rejects(first.acquire('web'));
      assert.equal(first.status('web')?.state, failures === 1 ? 'failed' : 'crashloop');
      first.close();
      rt.behave('web', {});
      await second.reconcile([fakeSpec('web')]);
      assert.equal(second.status('web')?.state, 'stopped');
      await second.acquire('web');
      assert.equal(second.status('web')?.state, 'running');
    } finally {
      first.close();
      second.close();
      await rt.close();
    }
  }
});

test('gateway restart during a start: the new activator adopts the container once it is ready', async () => {
  const rt = new FakeRuntime();
  rt.behave('web', { readyAfterMs: 300 });
  const first = fakeActivator(rt);
  const second = fakeActivator(rt);
  try {
    await first.reconcile([fakeSpec('web')]);
    const held = first.acquire('web');
    await waitForState(first, 'web', 'starting');
    await eventually('container running', () => rt.running('web').length === 1);
    // Closed after its gateway's drain: the start is given up (no waiter is left to serve), its container left as it is.
    first.close();
    await assert.rejects(held, /shutting down/);
    await second.reconcile([fakeSpec('web')]);
    assert.equal(second.status('web')?.state, 'running');
    assert.equal(rt.calls.start, 1, 'the container the first one started is adopted, not started again');
  } finally {
    first.close();
    second.close();
    await rt.close();
  }
});
