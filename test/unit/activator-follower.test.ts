// An activator on a gateway that does not lead (several gateways on one store):
// it serves and cold-starts, but leaves creating, removing, idle stops and restarts
// to the leader, follows what the engine reports instead, and acts once it leads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { FakeRuntime, sleep } from '../support/fake-runtime.js';
import { containerSpecHash } from '../../src/spec/hash.js';
import { eventually, fakeActivator, fakeSpec, waitForState } from '../support/fake-activator.js';

test('reconcile while following: adopts what runs, creates and removes nothing', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt, { acts: () => false });
  try {
    const running = await rt.outsideCreate(fakeSpec('up'));
    await a.reconcile([fakeSpec('up'), fakeSpec('cold'), fakeSpec('always', { scale: { min: 1 } })]);
    assert.equal(a.status('up')?.state, 'running', 'a running container is adopted');
    assert.equal(a.status('cold')?.state, 'stopped');
    assert.equal(a.status('always')?.state, 'stopped', 'apps that must run are the leader’s to start');
    assert.deepEqual((await rt.list()).map((i) => i.id), [running], 'no container created ahead');
    await a.reconcile([fakeSpec('cold')], ['up']);
    assert.equal(a.status('up'), undefined, 'a deleted app is forgotten');
    assert.equal(rt.running('up').length, 1, 'its container is the leader’s to stop and remove');
  } finally {
    a.close();
    await rt.close();
  }
});

test('a cold request while following starts the app, under the lease', async () => {
  const rt = new FakeRuntime();
  const leased: string[] = [];
  const a = fakeActivator(rt, {
    acts: () => false,
    lease: async (app, _waitMs, work) => {
      leased.push(app);
      return work();
    },
  });
  try {
    await a.reconcile([fakeSpec('web')]);
    await Promise.all([a.acquire('web'), a.acquire('web'), a.acquire('web')]);
    assert.equal(rt.running('web').length, 1);
    assert.deepEqual(leased, ['web'], 'one start, under the lease');
  } finally {
    a.close();
    await rt.close();
  }
});

test('idle while following: not stopped; stopped once this gateway leads', async () => {
  const rt = new FakeRuntime();
  let leads = false;
  const a = fakeActivator(rt, { acts: () => leads });
  try {
    await a.reconcile([fakeSpec('web', { idleTimeout: '100ms' })]);
    await a.acquire('web');
    await sleep(400);
    assert.equal(a.status('web')?.state, 'running', 'the leader stops apps, not this gateway');
    leads = true;
    await waitForState(a, 'web', 'stopped', 3_000);
    assert.equal(a.status('web')?.reason, 'idle');
  } finally {
    a.close();
    await rt.close();
  }
});

test('a container the leader starts while the app runs here is taken into rotation', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt, { acts: () => false });
  try {
    await a.reconcile([fakeSpec('web', { scale: { min: 0, max: 2, replicas: 2 } })]);
    await a.acquire('web');
    assert.equal(a.status('web')?.readyInstances, 1, 'this gateway started one and fills no replicas');
    const second = await rt.outsideCreate(fakeSpec('web', { scale: { min: 0, max: 2, replicas: 2 } }), 1);
    await rt.outsideStart(second);
    // Polled: the new container is probed over a socket first, which a loaded machine may not do within a fixed 200 ms.
    await eventually('the container taken into rotation', () => a.status('web')?.readyInstances === 2);
    assert.equal(a.status('web')?.readyInstances, 2);
  } finally {
    a.close();
    await rt.close();
  }
});

test('held requests wait for the fence, then are admitted', async () => {
  const rt = new FakeRuntime();
  let release!: () => void;
  const fence = new Promise<void>((r) => (release = r));
  let held = true;
  const a = fakeActivator(rt, { heldFor: () => (held ? fence : undefined) });
  try {
    await a.reconcile([fakeSpec('web')]);
    await a.acquire('web');
    const admission = a.admit('web', { headers: {}, method: 'GET', url: '/' } as never);
    assert.equal(admission.kind, 'wait');
    let done = false;
    const ready = (admission as { ready: Promise<unknown> }).ready.then(() => (done = true));
    await sleep(50);
    assert.equal(done, false);
    held = false;
    release();
    await ready;
    assert.equal(a.admit('web', { headers: {}, method: 'GET', url: '/' } as never).kind, 'ready');
  } finally {
    a.close();
    await rt.close();
  }
});

test('activity: the local proxy’s is reported, the other gateways’ only counted', async () => {
  const rt = new FakeRuntime();
  const seen: Array<[string, boolean]> = [];
  const a = fakeActivator(rt, { onActivity: (app, began) => seen.push([app, began]) });
  try {
    await a.reconcile([fakeSpec('web')]);
    await a.acquire('web');
    a.began('web');
    a.peerActivity('web', 2, 1);
    assert.equal(a.status('web')?.inFlight, 2);
    a.ended('web');
    assert.deepEqual(seen, [
      ['web', true],
      ['web', false],
    ]);
  } finally {
    a.close();
    await rt.close();
  }
});

// Several gateways on PostgreSQL: the leader killed mid-rollout. This gateway had followed the new
// spec without rolling it out (the leader does that) and went on serving the old revision's
// instances; leading now, the reconcile handed it the same spec again, which changed nothing,
// so the app showed the new revision while the old one served, for good.
test('the leader killed mid-rollout: this gateway, leading now, finishes the rollout', async () => {
  const rt = new FakeRuntime();
  let leads = false;
  const a = fakeActivator(rt, { acts: () => leads });
  const v1 = fakeSpec('web', { image: 'fake/web:1', scale: { min: 1, max: 1 } });
  const v2 = fakeSpec('web', { image: 'fake/web:2', scale: { min: 1, max: 1 } });
  try {
    await rt.outsideCreate(v1);
    await a.reconcile([v1]);
    await a.reconcile([v2]);
    assert.deepEqual(rt.running('web').map((i) => i.specHash), [containerSpecHash(v1)], 'a follower leaves the rollout to the leader');
    leads = true;
    await a.reconcile([v2]);
    await eventually('only revision 2 runs', () => rt.running('web').length === 1 && rt.running('web')[0]!.specHash === containerSpecHash(v2), 3_000);
    assert.equal(a.status('web')?.state, 'running');
    assert.equal(a.status('web')?.readyInstances, 1);
  } finally {
    a.close();
    await rt.close();
  }
});

test('the leader killed mid-rollout of a revision that never gets ready: this gateway, leading now, rolls it back', async () => {
  const rt = new FakeRuntime();
  let leads = false;
  const a = fakeActivator(rt, { acts: () => leads });
  const v1 = fakeSpec('web', { image: 'fake/web:1', scale: { min: 1, max: 1 } });
  const v2 = fakeSpec('web', { image: 'fake/web:2', scale: { min: 1, max: 1 }, startTimeout: '300ms' });
  try {
    const old = await rt.outsideCreate(v1);
    await a.reconcile([v1]);
    await a.reconcile([v2]);
    rt.badImages.add('fake/web:2');
    leads = true;
    await a.reconcile([v2]);
    await eventually('the rollout is over', () => [...rt.containers.values()].every((c) => c.image === 'fake/web:1'), 3_000);
    assert.deepEqual(rt.running('web').map((i) => i.id), [old], 'the old revision serves on');
    assert.equal(a.status('web')?.state, 'running');
    assert.match(String(a.status('web')?.lastError), /update rolled back/);
  } finally {
    a.close();
    await rt.close();
  }
});

/** A notice time after the running instance of `app` started (not in its millisecond, which counts as before it). */
function afterStart(rt: FakeRuntime, app: string): number {
  return Math.max(Date.now(), (rt.running(app)[0]?.startedAt?.getTime() ?? 0) + 1);
}

// The leader's stop reaches a follower only as its containers' exits: it was logged as "instance exited
// by itself" and shown with the exit's reason (a signal from "outside berth"); the follower now tells it
// as the leader's stop, with the leader's reason and no error.
test('a stop the leader announced: the exit here is told as that stop, with its reason', async () => {
  const rt = new FakeRuntime();
  const announced = new Map<string, { reason: string; atMs: number }>();
  const a = fakeActivator(rt, {
    acts: () => false,
    leaderStopped: (app, sinceMs) => {
      const stop = announced.get(app);
      return stop && stop.atMs > sinceMs ? stop.reason : undefined;
    },
  });
  try {
    await a.reconcile([fakeSpec('web'), fakeSpec('own')]);
    await a.acquire('web');
    await a.acquire('own');
    // After the start's millisecond, as a notice of a stop of a running instance is.
    announced.set('web', { reason: 'idle', atMs: afterStart(rt, 'web') });
    await rt.outsideSignal(rt.running('web')[0]!.id, 15, 0);
    await rt.outsideSignal(rt.running('own')[0]!.id, 15, 0);
    await waitForState(a, 'web', 'stopped', 3_000);
    assert.equal(a.status('web')?.reason, 'idle');
    assert.equal(a.status('web')?.lastError, undefined);
    await waitForState(a, 'own', 'stopped', 3_000);
    assert.match(String(a.status('own')?.reason), /outside berth/, 'a stop the leader did not announce is still told as one from outside');
    // A stop announced before the instance started says nothing about its exit.
    await a.acquire('web');
    await rt.outsideKill(rt.running('web')[0]!.id, 1);
    await waitForState(a, 'web', 'stopped', 3_000);
    assert.match(String(a.status('web')?.reason), /exited by itself with code 1/);
  } finally {
    a.close();
    await rt.close();
  }
});

// The leader's notice and the engine's die event are not ordered: an exit that came first was told as the
// app's own, and stayed so. Told again once the notice comes, as if it had come first.
test("the leader's stop notice after the exit: the exit is told again as that stop, with its reason", async () => {
  const rt = new FakeRuntime();
  const announced = new Map<string, { reason: string; atMs: number }>();
  const a = fakeActivator(rt, {
    acts: () => false,
    leaderStopped: (app, sinceMs) => {
      const stop = announced.get(app);
      return stop && stop.atMs > sinceMs ? stop.reason : undefined;
    },
  });
  try {
    await a.reconcile([fakeSpec('web'), fakeSpec('own')]);
    await a.acquire('web');
    await a.acquire('own');
    const noticeAtMs = afterStart(rt, 'web');
    await rt.outsideSignal(rt.running('web')[0]!.id, 15, 0);
    await rt.outsideSignal(rt.running('own')[0]!.id, 15, 0);
    await waitForState(a, 'web', 'stopped', 3_000);
    await waitForState(a, 'own', 'stopped', 3_000);
    assert.match(String(a.status('web')?.reason), /outside berth/, 'before the notice: told as a stop from outside');
    // The notice comes now.
    const atMs = noticeAtMs;
    announced.set('web', { reason: 'idle', atMs });
    a.leaderAnnouncedStop('web', 'idle', atMs);
    assert.equal(a.status('web')?.state, 'stopped');
    assert.equal(a.status('web')?.reason, 'idle');
    assert.equal(a.status('web')?.lastError, undefined);
    assert.match(String(a.status('own')?.reason), /outside berth/, 'an app the leader did not stop keeps its own reading');
    // A notice about a later run says nothing of an earlier exit: started again, stopped from outside, then a stale notice.
    // Clearly before the start (a notice in the start's own millisecond is taken as before it too, as LeaderStops says).
    announced.set('web', { reason: 'idle', atMs: atMs - 5 });
    await a.acquire('web');
    await rt.outsideKill(rt.running('web')[0]!.id, 1);
    await waitForState(a, 'web', 'stopped', 3_000);
    a.leaderAnnouncedStop('web', 'idle', atMs - 5);
    assert.match(String(a.status('web')?.reason), /exited by itself with code 1/, 'a notice from before the instance started is not its stop');
  } finally {
    a.close();
    await rt.close();
  }
});

// Only the leader saves last request times (LastRequestKeeper): what it saves must hold the traffic that
// only other gateways saw, or a restart would find an app used a minute ago idle for an hour and stop it.
test("the leader's last request times, what it saves, hold activity seen only at other gateways", async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt, { acts: () => true });
  try {
    await a.reconcile([fakeSpec('web')]);
    assert.deepEqual(a.lastRequests(), [], 'never used');
    const before = Date.now();
    // A heartbeat: another gateway's requests came and went (activatorCalls: a touch is a began/ended pair).
    a.peerActivity('web', 1, 1);
    const saved = a.lastRequests().find(([app]) => app === 'web');
    assert.ok(saved && saved[1] >= before - 1_000, `web's last request is the peer's: ${JSON.stringify(saved)}`);
  } finally {
    a.close();
    await rt.close();
  }
});

// Several gateways: the leader's rollout retires the old revision's instances (drained, then removed). A follower
// sees that only as their exits: it logged "instance exited by itself" and, for the 137 of a removal, showed the
// error "the container exited with code 137". Only the leader rolls out, so an instance of another revision
// than the app's own exiting here is its retirement.
test("the leader's rollout retiring the old revision: not an exit of the app's own on a follower", async () => {
  const rt = new FakeRuntime();
  const leader = fakeActivator(rt, { acts: () => true });
  const logged: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(String(JSON.parse(line).msg)) });
  const follower = fakeActivator(rt, { acts: () => false, logger });
  const v1 = fakeSpec('web', { image: 'fake/web:1' });
  const v2 = fakeSpec('web', { image: 'fake/web:2' });
  try {
    await leader.reconcile([v1]);
    await leader.acquire('web');
    const [old] = rt.running('web');
    await follower.reconcile([v1]);
    assert.equal(follower.status('web')?.state, 'running', 'the follower serves the old revision');
    await follower.reconcile([v2]);
    await leader.reconcile([v2]);
    await eventually('the old revision is removed', () => !rt.containers.has(old!.id), 3_000);
    await eventually('the follower told the exit', () => logged.some((msg) => msg === 'instance exited by itself' || msg === 'instance stopped by the leader'), 3_000);
    assert.equal(follower.status('web')?.lastError, undefined, 'no error of the app');
    assert.ok(!logged.includes('instance exited by itself'), logged.join(', '));
    assert.ok(logged.includes('instance stopped by the leader'), logged.join(', '));
    await eventually('the new revision serves here', () => follower.status('web')?.state === 'running', 2_000);
  } finally {
    follower.close();
    leader.close();
    await rt.close();
  }
});
