// The control side of the state feed on the fake engine: wake requests from
// several workers share one start, snapshots go out before the answers that
// depend on them, and the barrier keeps an idle stop from cutting a worker's
// requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Activator } from '../../src/activator/activator.js';
import { ControlFeed } from '../../src/cluster/control-feed.js';
import { barrier } from '../../src/cluster/gateway-workers.js';
import type { ActivityEntry, AppSnapshot, ToProxy } from '../../src/cluster/state-feed.js';
import { FakeRuntime, sleep } from '../support/fake-runtime.js';
import { eventually, fakeSpec, waitForState } from '../support/fake-activator.js';

/** Two fake workers: they keep what they are sent, and answer barriers with `activity` (their unreported counts). */
function setup(rt: FakeRuntime, held?: (app: string) => boolean, gateways?: { fence(app: string): Promise<void> }) {
  const inbox = new Map<number, ToProxy[]>([
    [1, []],
    [2, []],
  ]);
  const unreported = new Map<number, ActivityEntry[]>();
  let feed!: ControlFeed;
  const activator = new Activator({
    runtime: rt,
    logger: pino({ level: 'silent' }),
    defaults: { idleTimeoutMs: 600_000, queueSize: 1_000, waitingPage: {}, policy: { images: [], networks: [], bindMountRoots: [], allowPrivileged: false, capabilities: [], allowHostNetwork: false, allowHostPid: false } },
    onChange: (s) => feed.appChanged(s.name),
    onReadyChange: (app) => feed.appChanged(app),
    quiesce: (app) => barrier(app, feed, gateways),
  });
  feed = new ControlFeed({
    activator,
    logger: pino({ level: 'silent' }),
    onRecords: () => undefined,
    ...(held ? { held } : {}),
    peers: {
      ids: () => [...inbox.keys()],
      send: (peer, message) => {
        inbox.get(peer)!.push(message);
        if (message.t === 'fence') {
          // As a worker does: flush what it has, then answer.
          setImmediate(() => {
            const entries = unreported.get(peer);
            unreported.delete(peer);
            if (entries) feed.handle(peer, { t: 'activity', apps: entries });
            feed.handle(peer, { t: 'fenced', id: message.id });
          });
        }
      },
    },
  });
  activator.start();
  return { activator, feed, inbox, unreported };
}

const facts = { method: 'GET', url: '/', headers: {}, upgrade: false };

test('wake requests from two workers share one start; each answer follows the snapshot it needs', async () => {
  const rt = new FakeRuntime();
  rt.behave('web', { readyAfterMs: 50 });
  const { activator, feed, inbox } = setup(rt);
  try {
    await activator.reconcile([fakeSpec('web')]);
    feed.publishRoutes([{ app: 'web', routes: [], balance: 'least-connections' }]);
    for (let id = 1; id <= 10; id++) feed.handle(id % 2 === 0 ? 2 : 1, { t: 'wake', id, app: 'web', facts });
    await eventually('every wake answered', () => [...inbox.values()].every((m) => m.filter((x) => x.t === 'woken').length === 5));
    assert.equal(rt.calls.start, 1, 'one start for ten requests over two workers');
    for (const [peer, messages] of inbox) {
      const firstAnswer = messages.findIndex((m) => m.t === 'woken');
      const readySnapshot = messages.findIndex((m) => m.t === 'apps' && m.apps.some((a) => a.ready.length > 0));
      assert.ok(readySnapshot >= 0 && readySnapshot < firstAnswer, `worker ${peer}: the ready snapshot comes before the answers`);
      for (const m of messages) if (m.t === 'woken') assert.equal(m.answer.kind, 'ready');
    }
    const versions = inbox.get(1)!.flatMap((m) => (m.t === 'apps' ? m.apps.map((a) => a.version) : []));
    assert.deepEqual(versions, [...versions].sort((a, b) => a - b), 'versions only grow');
  } finally {
    activator.close();
    await rt.close();
  }
});

test('an idle stop waits for the barrier: activity a worker had not reported yet keeps the app up', async () => {
  const rt = new FakeRuntime();
  const { activator, feed, inbox, unreported } = setup(rt);
  try {
    await activator.reconcile([fakeSpec('web', { idleTimeout: '150ms' })]);
    feed.publishRoutes([{ app: 'web', routes: [], balance: 'least-connections' }]);
    await activator.acquire('web');
    // Worker 2 has a request in flight that its next batch would have reported.
    unreported.set(2, [['web', 1, []]]);
    await sleep(400);
    assert.equal(activator.status('web')?.state, 'running', 'not stopped: the barrier found the request');
    assert.equal(activator.status('web')?.inFlight, 1);
    const fences = inbox.get(1)!.filter((m): m is Extract<ToProxy, { t: 'fence' }> => m.t === 'fence');
    assert.ok(fences.length >= 1 && fences.every((f) => f.app.fenced === true && f.app.ready.length === 0), 'a fence admits nothing locally');
    const last = inbox.get(1)!.filter((m) => m.t === 'apps').at(-1) as { apps: AppSnapshot[] };
    assert.equal(last.apps.at(-1)?.fenced, undefined, 'the barrier is lifted afterwards');
    assert.equal(last.apps.at(-1)?.ready.length, 1);
    // The request ends: the app stops one idle timeout later.
    feed.handle(2, { t: 'activity', apps: [['web', 0, []]] });
    await waitForState(activator, 'web', 'stopped', 2_000);
    const final = inbox.get(2)!.filter((m) => m.t === 'apps').at(-1) as { apps: AppSnapshot[] };
    assert.deepEqual(final.apps.at(-1)?.ready, [], 'workers are told nothing is ready');
  } finally {
    activator.close();
    await rt.close();
  }
});

test('a worker that dies gives back its requests, and no barrier waits for it', async () => {
  const rt = new FakeRuntime();
  const { activator, feed } = setup(rt);
  try {
    await activator.reconcile([fakeSpec('web')]);
    await activator.acquire('web');
    feed.handle(1, { t: 'activity', apps: [['web', 3, []]] });
    assert.equal(activator.status('web')?.inFlight, 3);
    feed.peerLeft(1);
    assert.equal(activator.status('web')?.inFlight, 0);
  } finally {
    activator.close();
    await rt.close();
  }
});

test("an app another gateway's fence holds is sent fenced (no ready instance) until the hold ends", async () => {
  const rt = new FakeRuntime();
  const holds = new Set<string>();
  const { activator, feed, inbox } = setup(rt, (app) => holds.has(app));
  const last = () => inbox.get(1)!.flatMap((m) => (m.t === 'apps' ? m.apps.filter((a) => a.app === 'web') : [])).at(-1);
  try {
    await activator.reconcile([fakeSpec('web')]);
    feed.publishRoutes([{ app: 'web', routes: [], balance: 'least-connections' }]);
    feed.handle(1, { t: 'wake', id: 1, app: 'web', facts });
    await eventually('a ready snapshot', () => (last()?.ready.length ?? 0) > 0);
    holds.add('web');
    feed.appChanged('web');
    await eventually('a fenced snapshot while held', () => last()?.ready.length === 0 && last()?.fenced === true);
    holds.delete('web');
    feed.appChanged('web');
    await eventually('ready again once the hold ended', () => (last()?.ready.length ?? 0) > 0 && !last()?.fenced);
  } finally {
    activator.close();
    await rt.close();
  }
});

test('a wake whose worker client left gives its wait-queue place back; so do the wakes of a worker that is gone', async () => {
  const rt = new FakeRuntime();
  rt.behave('slow', { readyAfterMs: 60_000 });
  const { activator, feed, inbox } = setup(rt);
  try {
    await activator.reconcile([fakeSpec('slow', { queueSize: 2, startTimeout: '5m' })]);
    feed.publishRoutes([{ app: 'slow', routes: [], balance: 'least-connections' }]);
    feed.handle(1, { t: 'wake', id: 1, app: 'slow', facts });
    feed.handle(2, { t: 'wake', id: 2, app: 'slow', facts });
    await eventually('both held', () => activator.status('slow')?.waiting === 2);
    feed.handle(1, { t: 'leave', id: 1 });
    await eventually('the left one is answered', () => inbox.get(1)!.some((m) => m.t === 'woken' && m.id === 1));
    assert.equal(activator.status('slow')?.waiting, 1);
    feed.peerLeft(2);
    await eventually('the gone worker’s hold is given back', () => activator.status('slow')?.waiting === 0);
    // The places are free: new wakes are held again, not refused as a full queue.
    feed.handle(1, { t: 'wake', id: 3, app: 'slow', facts });
    feed.handle(1, { t: 'wake', id: 4, app: 'slow', facts });
    await eventually('two new ones held', () => activator.status('slow')?.waiting === 2);
    assert.ok(!inbox.get(1)!.some((m) => m.t === 'woken' && (m.id === 3 || m.id === 4)), 'neither refused');
    // A leave after the answer, or for a wake never sent, changes nothing.
    feed.handle(1, { t: 'leave', id: 1 });
    feed.handle(1, { t: 'leave', id: 99 });
    assert.equal(activator.status('slow')?.waiting, 2);
  } finally {
    activator.close();
    await rt.close();
  }
});

test("with other gateways, this gateway's workers stay fenced through their barrier too, until the stop is decided", async () => {
  const rt = new FakeRuntime();
  /** Worker 1's last snapshot of web. */
  let lastWeb: () => AppSnapshot | undefined = () => undefined;
  const seenDuring: Array<AppSnapshot | undefined> = [];
  // The other gateways' barrier (a NOTIFY round trip and a registry read): it takes a while.
  const gateways = {
    fence: async () => {
      await sleep(20);
      seenDuring.push(lastWeb());
      await sleep(100);
      seenDuring.push(lastWeb());
    },
  };
  const { activator, feed, inbox } = setup(rt, undefined, gateways);
  lastWeb = () => inbox.get(1)!.flatMap((m) => (m.t === 'apps' ? m.apps : m.t === 'fence' ? [m.app] : [])).filter((a) => a.app === 'web').at(-1);
  try {
    await activator.reconcile([fakeSpec('web', { idleTimeout: '150ms', startTimeout: '20s' })]);
    feed.publishRoutes([{ app: 'web', routes: [], balance: 'least-connections' }]);
    await activator.acquire('web');
    await waitForState(activator, 'web', 'stopped', 3_000);
    assert.equal(seenDuring.length, 2, 'the other gateways were asked');
    // Unfenced with an instance, a worker serves the app by itself and reports the request up to 100 ms later:
    // after the decision, which would stop the container under it.
    for (const snapshot of seenDuring) assert.equal(snapshot?.fenced, true, 'fenced while the other gateways answer');
    // The lift follows the decision (setImmediate), and may come after the engine's answer to the stop.
    await eventually('the barrier lifted', () => lastWeb()?.fenced === undefined, 3_000);
    assert.deepEqual(lastWeb()?.ready, [], 'after the stop: nothing ready');
  } finally {
    activator.close();
    await rt.close();
  }
});
