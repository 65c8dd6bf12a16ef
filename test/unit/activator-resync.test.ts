// The periodic resync on the fake engine: changes made behind berth's back whose
// events were lost (rt.eventsLost) are noticed by the next resync and handled as
// their events would have been.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeRuntime, sleep } from '../support/fake-runtime.js';
import { eventually, fakeActivator, fakeSpec, waitForState } from '../support/fake-activator.js';

/** Long enough that no periodic pass runs during a test: the test calls resync() itself. */
const NEVER = 600_000;

test('resync: a container killed with the event lost is noticed, and the app shows stopped', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt, { resyncEveryMs: NEVER });
  try {
    await a.reconcile([fakeSpec('web')]);
    const up = await a.acquire('web');
    rt.eventsLost = true;
    await rt.outsideKill(up.instanceId, 137);
    await sleep(100);
    assert.equal(a.status('web')?.state, 'running', 'without its event berth cannot know yet');
    assert.equal(await a.resync(), true);
    assert.equal(a.status('web')?.state, 'stopped');
    assert.match(a.status('web')?.lastError ?? '', /exited with code 137/);
    assert.equal(a.pick('web'), undefined, 'the dead container is out of rotation');
    rt.eventsLost = false;
    const again = await a.acquire('web');
    assert.equal(again.instanceId, up.instanceId, 'the next request starts the same container again');
  } finally {
    a.close();
    await rt.close();
  }
});

test('resync: it runs by itself every resyncEveryMs', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt, { resyncEveryMs: 100 });
  try {
    await a.reconcile([fakeSpec('web')]);
    const up = await a.acquire('web');
    rt.eventsLost = true;
    await rt.outsideStop(up.instanceId);
    await waitForState(a, 'web', 'stopped', 1_000);
    assert.equal(a.status('web')?.lastError, undefined, 'a clean stop is no error');
  } finally {
    a.close();
    await rt.close();
  }
});

test('resync: a container started with the event lost is adopted, then idle-stopped', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt, { resyncEveryMs: 100 });
  try {
    await a.reconcile([fakeSpec('web', { idleTimeout: '300ms' })]);
    const [container] = await rt.list({ app: 'web' });
    assert.ok(container);
    rt.eventsLost = true;
    await rt.outsideStart(container.id);
    await waitForState(a, 'web', 'running', 1_000);
    assert.equal(a.pick('web')?.instanceId, container.id, 'the adopted container serves');
    await waitForState(a, 'web', 'stopped', 2_000);
    assert.equal(a.status('web')?.reason, 'idle');
    assert.equal(rt.running('web').length, 0, 'berth stopped it');
  } finally {
    a.close();
    await rt.close();
  }
});

test('resync: a serving container removed with the event lost is forgotten; the next start makes a new one', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt, { resyncEveryMs: NEVER });
  try {
    await a.reconcile([fakeSpec('web')]);
    const up = await a.acquire('web');
    rt.eventsLost = true;
    await rt.outsideRemove(up.instanceId);
    await a.resync();
    assert.equal(a.status('web')?.state, 'stopped');
    assert.equal(a.controller('web')?.containerCount, 0, 'forgotten');
    rt.eventsLost = false;
    const again = await a.acquire('web');
    assert.notEqual(again.instanceId, up.instanceId);
  } finally {
    a.close();
    await rt.close();
  }
});

test('resync: a stopped container removed with the event lost is forgotten', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt, { resyncEveryMs: NEVER });
  try {
    await a.reconcile([fakeSpec('web')]);
    const [container] = await rt.list({ app: 'web' });
    assert.ok(container);
    assert.equal(a.controller('web')?.containerCount, 1);
    rt.eventsLost = true;
    await rt.outsideRemove(container.id);
    await a.resync();
    assert.equal(a.controller('web')?.containerCount, 0);
    assert.equal(a.status('web')?.state, 'stopped');
  } finally {
    a.close();
    await rt.close();
  }
});

test('resync: an app that must always run is restarted after a kill whose event was lost', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt, { resyncEveryMs: 100 });
  try {
    await a.reconcile([fakeSpec('web', { scale: { min: 1 } })]);
    const [first] = rt.running('web');
    assert.ok(first);
    rt.eventsLost = true;
    await rt.outsideKill(first.id, 0);
    await eventually('the app to run again', () => rt.running('web').length === 1 && a.status('web')?.state === 'running', 3_000);
  } finally {
    a.close();
    await rt.close();
  }
});

test('resync: a start made while the list was being read is not undone by the older list', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt, { resyncEveryMs: NEVER });
  try {
    await a.reconcile([fakeSpec('web')]);
    rt.listDelayMs = 300;
    const pass = a.resync();
    await a.acquire('web');
    assert.equal(await pass, true);
    assert.equal(a.status('web')?.state, 'running', 'the list said exited, but the app was started since');
    assert.equal(rt.running('web').length, 1);
  } finally {
    a.close();
    await rt.close();
  }
});

test('resync: passes never overlap, however slow the engine lists', async () => {
  const rt = new FakeRuntime();
  rt.listDelayMs = 150;
  let open = 0;
  let most = 0;
  const list = rt.list.bind(rt);
  rt.list = async (filter) => {
    most = Math.max(most, ++open);
    try {
      return await list(filter);
    } finally {
      open--;
    }
  };
  const a = fakeActivator(rt, { resyncEveryMs: 10 });
  try {
    await a.reconcile([fakeSpec('web')]);
    // Reconcile's own list may have run beside a pass: only passes are counted from here.
    most = open;
    const before = rt.calls.list;
    await Promise.all([a.resync(), a.resync(), a.resync()]);
    await sleep(600);
    assert.equal(most, 1, 'one list at a time');
    assert.ok(rt.calls.list - before >= 2, `the loop kept going (${rt.calls.list - before} lists)`);
  } finally {
    a.close();
    await rt.close();
  }
});

test('resync: an engine that cannot list is skipped, and no app is counted as failing', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt, { resyncEveryMs: 50 });
  try {
    await a.reconcile([fakeSpec('web'), fakeSpec('idle')]);
    await a.acquire('web');
    rt.engineDown = true;
    assert.equal(await a.resync(), false);
    await sleep(300);
    assert.equal(a.status('web')?.state, 'running', 'what runs keeps serving');
    assert.equal(a.status('idle')?.state, 'stopped');
    assert.equal(a.status('idle')?.lastError, undefined);
    rt.engineDown = false;
    assert.equal(await a.resync(), true);
    assert.equal(a.status('web')?.state, 'running');
  } finally {
    a.close();
    await rt.close();
  }
});
