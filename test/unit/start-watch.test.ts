// A container restarted behind berth's back while berth starts it (`docker restart`
// during a cold start) is its start going on, not a failure: the start waits for
// the new run at its new address. An exit by itself, a kill for its memory, or a
// signal with no start after it still fail the start, with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { duringStart, type DuringStart } from '../../src/activator/start-watch.js';
import type { Instance } from '../../src/runtime/runtime.js';
import type { Activator } from '../../src/activator/activator.js';
import type { Upstream } from '../../src/proxy/upstream.js';
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
  ['exited 0 (an app that ends cleanly on the SIGTERM of a docker restart, or by itself): worth a look', inst({ state: 'exited', exitCode: 0, address: undefined }), 'maybe-restarting', /exited with code 0$/],
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

/**
 * A cold start of `web` (ready 400 ms after it runs) with `outside` done to its
 * container once it runs, not yet ready; `check` gets the start's outcome.
 */
async function midStart(outside: (rt: FakeRuntime, first: Instance) => Promise<void>, check: (a: Activator, rt: FakeRuntime, first: Instance, up: Promise<Upstream>) => Promise<void>, readyAfterMs = 400): Promise<void> {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    rt.behave('web', { readyAfterMs });
    await a.reconcile([fakeSpec('web', { startTimeout: '30s' })]);
    const up = a.acquire('web');
    await eventually('its container runs (not yet ready)', () => rt.running('web').length === 1, 2_000);
    const first = { ...rt.running('web')[0]! };
    await outside(rt, first);
    await check(a, rt, first, up);
  } finally {
    a.close();
    await rt.close();
  }
}

/** The waiting request is served by a ready instance, and the app shows no failure. */
async function servedClean(a: Activator, up: Promise<Upstream>): Promise<Upstream> {
  const served = await up;
  assert.equal(a.status('web')?.state, 'running');
  assert.equal(a.status('web')?.lastError, undefined, 'no failure shown');
  return served;
}

test('a docker restart during a cold start: the start waits for the new run and serves, with no error', () =>
  midStart(
    (rt, first) => rt.outsideRestart(first.id),
    async (a, _rt, first, up) => {
      const served = await servedClean(a, up);
      assert.equal(served.instanceId, first.id, 'the same container');
      assert.notEqual(served.port, first.address?.port, 'dialled at its new address');
    },
  ));

test('a docker network disconnect during a cold start: the start joins it back and serves, with no error', () =>
  midStart(
    (rt, first) => rt.outsideDisconnect(first.id),
    async (a, _rt, first, up) => {
      const served = await servedClean(a, up);
      assert.equal(served.instanceId, first.id);
      assert.notEqual(served.port, first.address?.port, 'dialled at its new address');
    },
  ));

test('a docker rm -f during a cold start: a new container is made and serves the waiting request', () =>
  midStart(
    (rt, first) => rt.outsideRemove(first.id),
    async (a, rt, first, up) => {
      const served = await servedClean(a, up);
      assert.notEqual(served.instanceId, first.id, 'a new container');
      assert.equal(rt.containers.size, 1, 'just the new one');
    },
  ));

test('a docker stop during a cold start (no start after it) still fails the start with its exit code', () =>
  midStart(
    // A docker stop's SIGTERM: 143, as a restart's stop, but nothing starts it again.
    (rt, first) => rt.outsideKill(first.id, 143),
    async (a, _rt, _first, up) => {
      await assert.rejects(up, /exited with code 143/);
      assert.equal(a.status('web')?.state, 'failed');
    },
    10_000,
  ));

test('a docker pause during a cold start fails it at once, saying so; the next request unpauses it and serves', () =>
  midStart(
    (rt, first) => rt.outsidePause(first.id),
    async (a, rt, _first, up) => {
      // Not 'not ready in time' after the 30 s start timeout.
      await assert.rejects(up, /paused outside berth/);
      assert.match(a.status('web')?.lastError ?? '', /paused outside berth/);
      const again = await a.acquire('web');
      assert.equal(a.status('web')?.state, 'running');
      assert.equal(rt.running('web')[0]?.id, again.instanceId);
    },
    300,
  ));

test('a docker pause that lands before the start’s answer fails the start saying so (not "no published port"); the next request serves', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    rt.behave('web', { pausedAtStart: true });
    await a.reconcile([fakeSpec('web', { startTimeout: '30s' })]);
    await assert.rejects(a.acquire('web'), /paused outside berth while it started/);
    assert.match(a.status('web')?.lastError ?? '', /paused outside berth/);
    const again = await a.acquire('web');
    assert.equal(a.status('web')?.state, 'running');
    assert.equal(rt.running('web')[0]?.id, again.instanceId);
  } finally {
    a.close();
    await rt.close();
  }
});
