// A container taken off its network behind berth's back (docker network disconnect)
// runs on with its published port gone, and no container event says so. On the fake
// engine: the network event, or the resync when that event was lost, has the
// instance restarted in place, and the app serves again at its new address.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { routeLost } from '../../src/activator/published-route.js';
import { planResync } from '../../src/activator/resync-plan.js';
import { toNetworkEvent } from '../../src/runtime/docker/event-mapping.js';
import { mergeEvents } from '../../src/runtime/merge-events.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { eventually, fakeActivator, fakeSpec } from '../support/fake-activator.js';

const NEVER = 600_000;
const A = { host: '127.0.0.1', port: 3000 };

const ROUTE_CASES: Array<[string, Parameters<typeof routeLost>[0], Parameters<typeof routeLost>[1], boolean]> = [
  ['runs at the dialled port', A, { state: 'running', address: A }, false],
  ['runs with no published port', A, { state: 'running' }, true],
  ['runs at another port', A, { state: 'running', address: { host: '127.0.0.1', port: 3001 } }, true],
  ['runs at the same port of another host name', A, { state: 'running', address: { host: 'node-1', port: 3000 } }, false],
  ['exited (an exit, handled as one)', A, { state: 'exited' }, false],
  ['paused (a pause, handled as one)', A, { state: 'paused' }, false],
  ['gone (a removal, handled as one)', A, undefined, false],
  ['never dialled', undefined, { state: 'running' }, false],
];
for (const [name, dialled, now, want] of ROUTE_CASES) {
  test(`routeLost: ${name}`, () => assert.equal(routeLost(dialled, now), want));
}

test('toNetworkEvent: a connect or disconnect names the container; other network events are none', () => {
  const msg = (Action: string, container?: string) => ({ Type: 'network', Action, Actor: { ID: 'net1', Attributes: { name: 'berth-apps', type: 'bridge', ...(container ? { container } : {}) } }, timeNano: 1_700_000_000_000_000_000 });
  assert.deepEqual(toNetworkEvent(msg('disconnect', 'c1')), { kind: 'network', app: '', instanceId: 'c1', time: new Date(1_700_000_000_000) });
  assert.equal(toNetworkEvent(msg('connect', 'c2'))?.instanceId, 'c2');
  assert.equal(toNetworkEvent(msg('create')), undefined);
  assert.equal(toNetworkEvent(msg('disconnect')), undefined, 'no container named');
  assert.equal(toNetworkEvent({ ...msg('disconnect', 'c1'), Type: 'container' }), undefined);
});

test('mergeEvents: every item of every source, each source in its order, then the end', async () => {
  async function* slow(items: number[], ms: number) {
    for (const i of items) {
      await new Promise((r) => setTimeout(r, ms));
      yield i;
    }
  }
  const got: number[] = [];
  for await (const i of mergeEvents([slow([1, 2, 3], 5), slow([10, 20], 7), slow([], 1)])) got.push(i);
  assert.deepEqual([...got].sort((a, b) => a - b), [1, 2, 3, 10, 20]);
  assert.deepEqual(got.filter((i) => i < 10), [1, 2, 3]);
  assert.deepEqual(got.filter((i) => i >= 10), [10, 20]);
});

test('mergeEvents: breaking out returns every source', async () => {
  const closed: string[] = [];
  async function* endless(name: string) {
    try {
      for (;;) {
        await new Promise((r) => setTimeout(r, 2));
        yield name;
      }
    } finally {
      closed.push(name);
    }
  }
  for await (const _ of mergeEvents([endless('a'), endless('b')])) break;
  await eventually('both sources closed', () => closed.length === 2, 1_000);
  assert.deepEqual([...closed].sort(), ['a', 'b']);
});

function get(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

for (const how of ['network event', 'resync (event lost)'] as const) {
  test(`a serving container taken off its network is restarted and serves again, noticed by the ${how}`, async () => {
    const rt = new FakeRuntime();
    const a = fakeActivator(rt, { resyncEveryMs: NEVER });
    try {
      await a.reconcile([fakeSpec('web')]);
      const up = await a.acquire('web');
      const before = rt.containers.get(up.instanceId)?.instance.address;
      assert.ok(before);
      rt.eventsLost = how !== 'network event';
      await rt.outsideDisconnect(up.instanceId);
      await assert.rejects(get(before.port), 'the old address is dead');
      if (how !== 'network event') {
        rt.eventsLost = false;
        assert.equal(await a.resync(), true);
      }
      await eventually('back in rotation at a new address', () => a.pick('web') !== undefined && rt.containers.get(up.instanceId)?.instance.address?.port !== before.port, 5_000);
      const now = a.pick('web');
      assert.ok(now);
      assert.equal(now.instanceId, up.instanceId, 'the same container, restarted in place');
      assert.equal(await get(rt.containers.get(up.instanceId)!.instance.address!.port), 200);
      assert.equal(a.status('web')?.state, 'running');
      assert.equal(a.status('web')?.readyInstances, 1);
      assert.equal(rt.running('web').length, 1, 'no second container');
    } finally {
      a.close();
      await rt.close();
    }
  });
}

// A Swarm service edited behind berth's back (`docker service update --constraint-add …`,
// --limit-memory, --publish-rm) runs on, changed. The Swarm runtime's task poll says so
// (a `changed` event) and so does its list (Instance.outdated), for the resync.
for (const how of ['changed event', 'resync (event lost)'] as const) {
  test(`a serving instance edited outside berth is brought back to the app's spec, and the status says so, noticed by the ${how}`, async () => {
    const rt = new FakeRuntime();
    const a = fakeActivator(rt, { resyncEveryMs: NEVER });
    try {
      await a.reconcile([fakeSpec('web')]);
      const up = await a.acquire('web');
      rt.eventsLost = how !== 'changed event';
      const ensures = rt.calls.ensure;
      rt.outsideEdit(up.instanceId);
      if (how !== 'changed event') {
        rt.eventsLost = false;
        assert.equal(await a.resync(), true);
      }
      await eventually('brought back and serving', () => rt.containers.get(up.instanceId)?.instance.outdated === undefined && a.pick('web') !== undefined, 5_000);
      assert.ok(rt.calls.ensure > ensures, 'the instance was brought to the spec (ensure)');
      await eventually('the status says so', () => /changed outside berth.*brought it back to the app's spec/.test(a.status('web')?.reason ?? ''), 5_000);
      assert.equal(a.status('web')?.state, 'running');
      assert.equal(a.pick('web')?.instanceId, up.instanceId, 'the same instance, restarted in place');
      assert.equal(rt.running('web').length, 1, 'no second container');
    } finally {
      a.close();
      await rt.close();
    }
  });
}

test('resync: an outdated instance of a running app is reported changed; of a down app, or when not outdated, nothing', () => {
  const believed = (state: 'running' | 'stopped') => [{ name: 'web', state, containerHash: 'h', slots: state === 'running' ? [{ id: 'c1', busy: false, address: A }] : [], parked: [] }];
  const observed = (outdated: boolean) => [{ id: 'c1', app: 'web', specHash: 'h', state: 'running' as const, address: A, ...(outdated ? { outdated } : {}) }];
  assert.deepEqual(planResync({ believed: believed('running'), observed: observed(true) }), [{ kind: 'changed', app: 'web', id: 'c1' }]);
  assert.deepEqual(planResync({ believed: believed('running'), observed: observed(false) }), []);
});
