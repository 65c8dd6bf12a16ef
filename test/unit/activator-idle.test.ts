import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeRuntime, sleep } from '../support/fake-runtime.js';
import { fakeActivator, fakeSpec, waitForState } from '../support/fake-activator.js';

test('idle stop waits for requests and WebSockets in flight, then stops after idleTimeout', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web', { idleTimeout: '150ms' })]);
    await a.acquire('web');
    a.began('web'); // a request
    a.began('web'); // a WebSocket
    await sleep(400);
    assert.equal(a.status('web')?.state, 'running', 'never stopped while a request is open');
    a.ended('web'); // the request ends, the WebSocket stays
    await sleep(400);
    assert.equal(a.status('web')?.state, 'running', 'never stopped while a WebSocket is open');
    assert.equal(rt.running('web').length, 1);
    a.ended('web');
    await waitForState(a, 'web', 'stopped', 2_000);
    assert.equal(a.status('web')?.reason, 'idle');
    assert.equal(rt.running('web').length, 0);
  } finally {
    a.close();
    await rt.close();
  }
});

test('a request arriving while the app stops waits for the stop, then wakes it', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web')]);
    await a.acquire('web');
    a.began('web'); // keeps the app in `stopping` while it drains
    const stopping = a.controller('web')!.stop('test', 2_000);
    await waitForState(a, 'web', 'stopping');
    const held = a.acquire('web');
    a.ended('web');
    await stopping;
    await held;
    assert.equal(a.status('web')?.state, 'running');
    assert.equal(rt.running('web').length, 1);
  } finally {
    a.close();
    await rt.close();
  }
});

test('an app with scale.min 1 is not idle-stopped', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web', { idleTimeout: '100ms', scale: { min: 1 } })]);
    assert.equal(a.status('web')?.state, 'running', 'started at apply');
    await sleep(300);
    assert.equal(a.status('web')?.state, 'running');
  } finally {
    a.close();
    await rt.close();
  }
});
