import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeRuntime } from '../support/fake-runtime.js';
import { eventually, fakeActivator, fakeSpec } from '../support/fake-activator.js';

/** An app with scale.min 1 must always run: berth keeps trying, with backoff, whatever ended it. */

test('always on: a first start that fails (a dependency not up yet) is tried again until the app runs', async () => {
  const rt = new FakeRuntime();
  rt.behave('web', { startError: () => new Error('connection to db refused') });
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web', { scale: { min: 1, max: 1 } })]);
    assert.equal(a.status('web')?.state, 'failed');
    assert.match(a.status('web')?.lastError ?? '', /connection to db refused/);
    rt.behave('web', {});
    await eventually('the always-on app is started again', () => a.status('web')?.state === 'running');
    assert.equal(rt.running('web').length, 1);
  } finally {
    a.close();
    await rt.close();
  }
});

test('always on: a start through the API that fails is tried again too', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web', { scale: { min: 1, max: 1 } })]);
    assert.equal(a.status('web')?.state, 'running');
    rt.behave('web', { startError: () => new Error('exec format error') });
    const web = a.controller('web')!;
    await web.stop('restarted through the API');
    await assert.rejects(web.acquire(), /exec format error/);
    rt.behave('web', {});
    await eventually('the always-on app is started again', () => a.status('web')?.state === 'running');
  } finally {
    a.close();
    await rt.close();
  }
});

test('always on: an app that fails to start for good ends in crashloop, not in a tight loop', async () => {
  const rt = new FakeRuntime();
  rt.behave('web', { startError: () => new Error('exec format error') });
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web', { scale: { min: 1, max: 1 } })]);
    await eventually('crashloop', () => a.status('web')?.state === 'crashloop', 5_000);
    const starts = rt.calls.start;
    await new Promise((r) => setTimeout(r, 1_000));
    assert.ok(rt.calls.start - starts <= 1, `${rt.calls.start - starts} starts in 1 s during the backoff`);
  } finally {
    a.close();
    await rt.close();
  }
});

test('always on: an app that exits with code 0 soon after each start ends in crashloop, saying so', async () => {
  const rt = new FakeRuntime();
  rt.behave('web', { exitAfterMs: 300, exitCode: 0 });
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web', { scale: { min: 1, max: 1 } })]);
    await eventually('crashloop', () => a.status('web')?.state === 'crashloop', 8_000);
    assert.match(a.status('web')?.lastError ?? '', /exited with code 0/);
    assert.ok(a.status('web')?.retryAt, 'the next try waits for the backoff');
  } finally {
    a.close();
    await rt.close();
  }
});

test('scale to zero: an app that exits with code 0 by itself (it quits when idle) is stopped, not crash-looping', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web')]);
    for (let i = 0; i < 4; i++) {
      // It quits (code 0) once up: told, as the fake's exit timer would. A 100 ms timer ran out before the start was
      // through on a loaded machine, a failed start instead of this case.
      const up = await a.acquire('web');
      await rt.outsideKill(up.instanceId, 0);
      await eventually('the instance quit', () => a.status('web')?.state === 'stopped');
    }
    assert.equal(a.status('web')?.lastError, undefined);
  } finally {
    a.close();
    await rt.close();
  }
});
