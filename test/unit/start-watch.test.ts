// A container restarted behind berth's back while berth starts it (`docker restart`
// during a cold start) is its start going on, not a failure: the start waits for
// the new run at its new address. An exit by itself, a kill for its memory, or a
// signal with no start after it still fail the start, with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { duringStart, type DuringStart } from '../../src/activator/start-watch.js';
import type { Instance } from '../../src/runtime/runtime.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { eventually, fakeActivator, fakeSpec } from '../support/fake-activator.js';

const T0 = new Date('2026-01-01T00:00:00Z');
const T1 = new Date('2026-01-01T00:00:02Z');
const started = { startedAt: T0, address: { host: '127.0.0.1', port: 3000 } };
const inst = (extra: Partial<Instance>): Instance => ({ id: 'c', name: 'berth-web-0', app: 'web', index: 0, specHash: 'h', state: 'running', health: 'none', startedAt: T0, address: started.address, ...extra });

const CASES: Array<[string, Instance | undefined, DuringStart['kind'], RegExp?]> = [
  ['still its first run', inst({}), 'starting'],
  ['running again since (startedAt moved)', inst({ startedAt: T1, address: { host: '127.0.0.1', port: 3001 } }), 'restarted'],
  ['running again at the same start time but another port', inst({ address: { host: '127.0.0.1', port: 3001 } }), 'restarted'],
  ['exited 143 (a docker stop or restart): worth a look', inst({ state: 'exited', exitCode: 143, address: undefined }), 'maybe-restarting', /exited with code 143/],
  ['exited 137 (a docker kill): worth a look', inst({ state: 'exited', exitCode: 137, address: undefined }), 'maybe-restarting', /exited with code 137/],
  ['exited 1 by itself: failed', inst({ state: 'exited', exitCode: 1, address: undefined }), 'failed', /exited with code 1$/],
  ['exited 0 by itself: failed', inst({ state: 'exited', exitCode: 0, address: undefined }), 'failed', /exited with code 0$/],
  ['killed for its memory (137): failed, saying so', inst({ state: 'exited', exitCode: 137, oomKilled: true, address: undefined }), 'failed', /ran out of memory/],
  ['dead: failed', inst({ state: 'dead', exitCode: 2 }), 'failed', /exited with code 2/],
  ['gone (docker rm -f): a new one can be made', undefined, 'gone', /disappeared/],
  ['paused meanwhile: failed at once, saying so (frozen, it would time out)', inst({ state: 'paused' }), 'failed', /paused outside berth/],
  ['running with its published port gone (taken off its network): unrouted', inst({ address: undefined }), 'unrouted'],
  ['created or restarting: still starting', inst({ state: 'restarting' }), 'starting'],
];
for (const [name, now, kind, reason] of CASES) {
  test(`duringStart: ${name}`, () => {
    const seen = duringStart(started, now);
    assert.equal(seen.kind, kind);
    if (reason) assert.match('reason' in seen ? seen.reason : '', reason);
  });
}

test('a docker restart during a cold start: the start waits for the new run and serves, with no error', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    rt.behave('web', { readyAfterMs: 400 });
    await a.reconcile([fakeSpec('web', { startTimeout: '5s' })]);
    const up = a.acquire('web');
    await eventually('its container runs (not yet ready)', () => rt.running('web').length === 1, 2_000);
    const [first] = rt.running('web');
    assert.ok(first?.address);
    const firstPort = first.address.port;
    await rt.outsideRestart(first.id);
    const served = await up;
    assert.equal(served.instanceId, first.id, 'the same container');
    assert.notEqual(served.port, firstPort, 'dialled at its new address');
    assert.equal(a.status('web')?.state, 'running');
    assert.equal(a.status('web')?.lastError, undefined, 'no failure shown');
  } finally {
    a.close();
    await rt.close();
  }
});

test('a docker stop during a cold start (no start after it) still fails the start with its exit code', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    rt.behave('web', { readyAfterMs: 10_000 });
    await a.reconcile([fakeSpec('web', { startTimeout: '8s' })]);
    const up = a.acquire('web');
    await eventually('its container runs (not yet ready)', () => rt.running('web').length === 1, 2_000);
    // A docker stop's SIGTERM: 143, as a restart's stop, but nothing starts it again.
    await rt.outsideKill(rt.running('web')[0]!.id, 143);
    await assert.rejects(up, /exited with code 143/);
    assert.equal(a.status('web')?.state, 'failed');
  } finally {
    a.close();
    await rt.close();
  }
});

test('a docker network disconnect during a cold start: the start joins it back and serves, with no error', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    rt.behave('web', { readyAfterMs: 400 });
    await a.reconcile([fakeSpec('web', { startTimeout: '5s' })]);
    const up = a.acquire('web');
    await eventually('its container runs (not yet ready)', () => rt.running('web').length === 1, 2_000);
    const [first] = rt.running('web');
    assert.ok(first?.address);
    const firstPort = first.address.port;
    await rt.outsideDisconnect(first.id);
    const served = await up;
    assert.equal(served.instanceId, first.id);
    assert.notEqual(served.port, firstPort, 'dialled at its new address');
    assert.equal(a.status('web')?.state, 'running');
    assert.equal(a.status('web')?.lastError, undefined);
  } finally {
    a.close();
    await rt.close();
  }
});

test('a docker pause during a cold start fails it at once, saying so; the next request unpauses it and serves', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    rt.behave('web', { readyAfterMs: 300 });
    await a.reconcile([fakeSpec('web', { startTimeout: '30s' })]);
    const up = a.acquire('web');
    await eventually('its container runs (not yet ready)', () => rt.running('web').length === 1, 2_000);
    await rt.outsidePause(rt.running('web')[0]!.id);
    // Not 'not ready in time' after the 30 s start timeout.
    await assert.rejects(up, /paused outside berth/);
    assert.match(a.status('web')?.lastError ?? '', /paused outside berth/);
    const again = await a.acquire('web');
    assert.equal(a.status('web')?.state, 'running');
    assert.equal(rt.running('web')[0]?.id, again.instanceId);
  } finally {
    a.close();
    await rt.close();
  }
});

test('a docker rm -f during a cold start: a new container is made and serves the waiting request', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    rt.behave('web', { readyAfterMs: 400 });
    await a.reconcile([fakeSpec('web', { startTimeout: '5s' })]);
    const up = a.acquire('web');
    await eventually('its container runs (not yet ready)', () => rt.running('web').length === 1, 2_000);
    const first = rt.running('web')[0]!.id;
    await rt.outsideRemove(first);
    const served = await up;
    assert.notEqual(served.instanceId, first, 'a new container');
    assert.equal(a.status('web')?.state, 'running');
    assert.equal(a.status('web')?.lastError, undefined);
    assert.equal(rt.containers.size, 1, 'just the new one');
  } finally {
    a.close();
    await rt.close();
  }
});
