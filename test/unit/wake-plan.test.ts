// Waking a paused app: the decision (wake-plan.ts) as a table, the marks the
// instance set keeps, and the wake itself on the fake engine: a container berth
// paused while it served is only thawed (one unpause, no inspect, no probe,
// single flight); one changed behind berth's back is started the full way.
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, EngineUnavailableError, NotFoundError, RuntimeError } from '../../src/errors.js';
import { InstanceSet } from '../../src/activator/instance-set.js';
import { afterFailedThaw, wakePlan, type WakeFacts, type WakePlan } from '../../src/activator/wake-plan.js';
import type { Instance, InstanceState } from '../../src/runtime/runtime.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { timedGet } from '../support/http-requests.js';
import { eventually, fakeActivator, fakeSpec, waitForState } from '../support/fake-activator.js';

const at = { host: '127.0.0.1', port: 40001 };
/** `address` null: berth never learnt one. */
const facts = (state: InstanceState | undefined, thawable: boolean, canUnpause = true, address: typeof at | null = at): WakeFacts => ({
  existing: state === undefined ? undefined : { state, address: address ?? undefined },
  thawable,
  canUnpause,
});

const PLANS: [string, WakeFacts, WakePlan][] = [
  ['paused by berth while it served: thaw only', facts('paused', true), 'unpause-only'],
  ['no container yet: made and started', facts(undefined, false), 'full'],
  ['paused, but not by berth (adopted at gateway start, or paused outside)', facts('paused', false), 'full'],
  ['paused by berth, but the runtime cannot thaw (Swarm: pause is a stop)', facts('paused', true, false), 'full'],
  ['paused by berth, address unknown', facts('paused', true, true, null), 'full'],
  ['stopped by berth (idleAction stop)', facts('exited', false), 'full'],
  ['marked, but berth last knew it exited', facts('exited', true), 'full'],
  ['marked, but berth last knew it running', facts('running', true), 'full'],
  ['created, never started', facts('created', false), 'full'],
];

for (const [name, input, expected] of PLANS) {
  test(`wakePlan: ${name} → ${expected}`, () => {
    assert.equal(wakePlan(input), expected);
  });
}

const FAILURES: [string, unknown, 'full' | 'fail'][] = [
  ['404: removed behind berth’s back', new NotFoundError('no such container'), 'full'],
  ['409: not paused (stopped, restarted or unpaused outside)', new ConflictError('container is not paused'), 'full'],
  ['another engine refusal', new RuntimeError('engine said: cgroup trouble'), 'full'],
  ['an unplanned error', new Error('boom'), 'full'],
  ['the engine does not answer: the full path would not either', new EngineUnavailableError('no engine', 5), 'fail'],
];

for (const [name, err, expected] of FAILURES) {
  test(`afterFailedThaw: ${name} → ${expected}`, () => {
    assert.equal(afterFailedThaw(err), expected);
  });
}

function parked(id: string, state: InstanceState = 'paused'): Instance {
  return { id, name: `berth-web-${id}`, app: 'web', index: 0, specHash: 'h', state, health: 'none', address: at };
}

test('instance set: only parked instances are marked, a mark is taken once, and re-parking or forgetting clears it', () => {
  const set = new InstanceSet('round-robin', 'web');
  set.setParked([parked('a'), parked('b'), parked('c')]);
  set.markThawable(['a', 'b', 'c', 'not-parked']);
  assert.equal(set.takeThawable('not-parked'), false);
  assert.equal(set.takeThawable('a'), true);
  assert.equal(set.takeThawable('a'), false, 'asked once');
  set.park(parked('b', 'exited'));
  assert.equal(set.takeThawable('b'), false, 'a new record of it (it exited) is not thawable');
  set.forget((i) => i.id !== 'c');
  set.park(parked('c'));
  assert.equal(set.takeThawable('c'), false, 'forgotten, then parked again: not thawable');
  set.markThawable(['c']);
  set.setParked([parked('c')]);
  assert.equal(set.takeThawable('c'), false, 'a new parked list starts unmarked');
});

const PAUSING = { idleTimeout: '100ms', idleAction: 'pause' };

/** Acquires, waits for the idle pause, and returns the instance that served with the engine's call counts then. */
async function pausedApp(rt: FakeRuntime, a: ReturnType<typeof fakeActivator>) {
  await a.reconcile([fakeSpec('web', PAUSING)]);
  const up = await a.acquire('web');
  await waitForState(a, 'web', 'paused');
  return { up, calls: { ...rt.calls }, probes: rt.probes('web') };
}

/** What the container answers now on its published port, as the proxy would reach it. */
const get = async (port: number): Promise<number> => (await timedGet(port, '/healthz', { timeoutMs: 2_000 })).status;

test('a paused app wakes with one unpause: no start, no inspect, no probe, however many requests wait', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    const { up, calls, probes } = await pausedApp(rt, a);
    const woken = await Promise.all(Array.from({ length: 50 }, () => a.acquire('web')));
    assert.equal(rt.calls.unpause - calls.unpause, 1, 'one unpause for 50 requests');
    assert.equal(rt.calls.start, calls.start, 'no start');
    assert.equal(rt.calls.inspect, calls.inspect, 'no inspect');
    assert.equal(rt.probes('web'), probes, 'no readiness probe');
    assert.deepEqual(new Set(woken.map((u) => u.origin)), new Set([up.origin]), 'traffic goes where it went before the pause');
    assert.equal(a.status('web')?.state, 'running');
    assert.equal(rt.running('web').length, 1);
    // It goes idle again and wakes the same way: the mark is set at every pause.
    await waitForState(a, 'web', 'paused');
    await a.acquire('web');
    assert.equal(rt.calls.unpause - calls.unpause, 2);
    assert.equal(rt.calls.start, calls.start);
  } finally {
    a.close();
    await rt.close();
  }
});

test('a paused container removed behind berth’s back, its event lost: the thaw’s 404 leads to a cold start of a new one', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    const { up, calls } = await pausedApp(rt, a);
    rt.eventsLost = true;
    await rt.outsideRemove(up.instanceId);
    const again = await a.acquire('web');
    assert.equal(rt.calls.unpause - calls.unpause, 1, 'the thaw was tried');
    assert.equal(rt.calls.ensure - calls.ensure, 1, 'a new container was made');
    assert.notEqual(again.instanceId, up.instanceId);
    assert.equal(await get(again.port), 200, 'the new one serves');
    assert.equal(a.status('web')?.state, 'running');
    assert.equal(a.status('web')?.lastError, undefined);
  } finally {
    a.close();
    await rt.close();
  }
});

test('a paused container unpaused and stopped behind berth’s back, its events lost: the thaw’s 409 leads to a full start', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    const { up, calls, probes } = await pausedApp(rt, a);
    rt.eventsLost = true;
    await rt.outsideUnpause(up.instanceId);
    await rt.outsideStop(up.instanceId);
    const again = await a.acquire('web');
    assert.equal(rt.calls.unpause - calls.unpause, 1, 'the thaw was tried');
    assert.equal(rt.calls.start - calls.start, 1, 'then the container was started');
    assert.ok(rt.probes('web') > probes, 'and probed for readiness');
    assert.equal(again.instanceId, up.instanceId, 'the same container');
    assert.notEqual(again.port, up.port, 'at its new address');
    assert.equal(await get(again.port), 200);
    assert.equal(a.status('web')?.state, 'running');
  } finally {
    a.close();
    await rt.close();
  }
});

test('a paused container restarted and paused again behind berth’s back: its start event makes the wake look, not just thaw', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    const { up, calls } = await pausedApp(rt, a);
    await rt.outsideStop(up.instanceId);
    await rt.outsideStart(up.instanceId);
    await rt.outsidePause(up.instanceId);
    // The start event was seen (berth tried to adopt it, found it paused); the old address is dead now.
    await waitForState(a, 'web', 'paused');
    const again = await a.acquire('web');
    assert.equal(rt.calls.unpause, calls.unpause, 'no bare thaw');
    assert.equal(again.instanceId, up.instanceId);
    assert.notEqual(again.port, up.port, 'routed to where it listens now');
    assert.equal(await get(again.port), 200);
  } finally {
    a.close();
    await rt.close();
  }
});

test('the engine down during the thaw: the wake fails as the engine’s outage (no second try), and the next wake takes the full path', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    const { up, calls } = await pausedApp(rt, a);
    rt.engineDown = true;
    await assert.rejects(a.acquire('web'), (err: unknown) => err instanceof EngineUnavailableError);
    assert.equal(rt.calls.start, calls.start, 'the full path was not tried against a dead engine');
    rt.engineDown = false;
    // The admission gate pings the engine every 250 ms and lets starts through once it answers.
    await eventually('the engine to be seen back', () => a.controller('web')!.retryDelayMs() === 0);
    const again = await a.acquire('web');
    assert.equal(again.instanceId, up.instanceId);
    assert.equal(rt.calls.start - calls.start, 1, 'the full path: the failed thaw used the mark up');
    assert.equal(a.status('web')?.state, 'running');
  } finally {
    a.close();
    await rt.close();
  }
});

test('a thawed container that dies before the first request reaches it: the proxy’s retry path (exclude, unreachable) wakes the app again', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    const { up, calls } = await pausedApp(rt, a);
    const thawed = await a.acquire('web');
    assert.equal(rt.calls.unpause - calls.unpause, 1);
    // It dies right after the thaw, and its die event is not seen yet: the proxy's connection is refused.
    rt.eventsLost = true;
    await rt.outsideKill(up.instanceId, 137);
    await assert.rejects(get(thawed.port));
    // What the proxy does then (proxy-server.ts forward → retryAfterExit): another instance, else ask whether it is gone.
    const other = a.admit('web', { method: 'GET', headers: {} } as IncomingMessage, { exclude: thawed.instanceId });
    assert.equal(other.kind, 'fail', 'no other instance');
    assert.equal(await a.unreachable('web', thawed.instanceId), true, 'the engine says it is gone');
    assert.notEqual(a.status('web')?.state, 'running');
    const again = await a.acquire('web');
    assert.equal(rt.calls.start - calls.start, 1, 'started again the full way');
    assert.equal(await get(again.port), 200);
    assert.equal(a.status('web')?.state, 'running');
  } finally {
    a.close();
    await rt.close();
  }
});

test('a serving container paused behind berth’s back (docker pause) leaves the rotation: the app shows paused, not running, and the next request starts it the full way', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web')]);
    const up = await a.acquire('web');
    const calls = { ...rt.calls };
    await rt.outsidePause(up.instanceId);
    // It answered nothing while frozen, and berth kept sending it every request (each a 504 after the response timeout).
    await waitForState(a, 'web', 'paused');
    assert.equal(a.status('web')?.readyInstances, 0);
    const again = await a.acquire('web');
    assert.equal(again.instanceId, up.instanceId, 'the same container');
    assert.equal(rt.calls.start - calls.start, 1, 'started (which unpauses) the full way: berth did not freeze it, so it thaws nothing blind');
    assert.equal(rt.calls.unpause, calls.unpause, 'no bare thaw');
    assert.equal(a.status('web')?.state, 'running');
    assert.equal(await get(again.port), 200);
  } finally {
    a.close();
    await rt.close();
  }
});

test('a container paused and unpaused behind berth’s back: adopted as running again, with no start of berth’s', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web')]);
    const up = await a.acquire('web');
    await rt.outsidePause(up.instanceId);
    await waitForState(a, 'web', 'paused');
    const calls = { ...rt.calls };
    await rt.outsideUnpause(up.instanceId);
    await waitForState(a, 'web', 'running');
    assert.equal(rt.calls.start, calls.start, 'nothing started');
    assert.equal(a.status('web')?.readyInstances, 1);
  } finally {
    a.close();
    await rt.close();
  }
});

test('one of two replicas paused behind berth’s back leaves the rotation; the app keeps running on the other', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web', { scale: { min: 2 } })]);
    await eventually('two replicas ready', () => a.status('web')?.readyInstances === 2);
    const [first] = rt.running('web');
    await rt.outsidePause(first!.id);
    await eventually('the paused one out of rotation', () => a.status('web')?.readyInstances === 1);
    assert.equal(a.status('web')?.state, 'running');
    for (let i = 0; i < 4; i++) assert.notEqual((await a.acquire('web')).instanceId, first!.id);
  } finally {
    a.close();
    await rt.close();
  }
});

test('a burst of requests failing on a running instance asks the engine about it once at a time, not once per request', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web')]);
    const up = await a.acquire('web');
    const before = rt.calls.inspect;
    // What the proxy does for each GET whose connection failed with no other instance (proxy-server.ts retryAfterExit).
    const answers = await Promise.all(Array.from({ length: 50 }, () => a.unreachable('web', up.instanceId)));
    assert.deepEqual(new Set(answers), new Set([false]), 'it still runs');
    const inspects = rt.calls.inspect - before;
    // One look polls every 25 ms for half a second: about twenty inspects (fewer on a loaded machine), never one per request.
    assert.ok(inspects >= 1 && inspects < 50, `engine inspects: ${inspects}`);
  } finally {
    a.close();
    await rt.close();
  }
});
