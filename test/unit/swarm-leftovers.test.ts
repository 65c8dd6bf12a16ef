// A Swarm service berth serves from, changed under it, on the fake engine: the core
// hears the Swarm runtime's events in the order its task poll makes them (task-diff.ts)
// and must keep the app's status right through the change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AppState } from '../../src/activator/app-status.js';
import type { RuntimeEvent } from '../../src/runtime/runtime.js';
import { diffTasks } from '../../src/runtime/swarm/task-diff.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { eventually, fakeActivator, fakeSpec } from '../support/fake-activator.js';

const NEVER = 600_000;

/** Hands the core an event as the runtime's event stream would (the fake's own channel). */
function deliver(rt: FakeRuntime, event: RuntimeEvent): void {
  (rt as unknown as { deliver(e: RuntimeEvent): void }).deliver(event);
}

test('a service edited behind berth’s back, its edit rolled out in one poll: the app stays running through the repair, never shown stopped', async () => {
  const rt = new FakeRuntime();
  const states: AppState[] = [];
  const a = fakeActivator(rt, { resyncEveryMs: NEVER, onChange: (s) => s.name === 'web' && states.push(s.state) });
  try {
    await a.reconcile([fakeSpec('web')]);
    const up = await a.acquire('web');
    states.length = 0;
    // `docker service update --image …`: the Swarm runs the new task and shuts the old one down; one poll sees
    // the service edited and its running task replaced.
    rt.containers.get(up.instanceId)!.instance.outdated = true;
    const apps = new Map([[up.instanceId, 'web']]);
    const events = diffTasks({ apps, running: new Map([[up.instanceId, 'task-old']]) }, { apps, running: new Map([[up.instanceId, 'task-new']]), changed: new Map([[up.instanceId, 7]]) }, new Date());
    for (const e of events) deliver(rt, e);
    await eventually('brought back and serving', () => rt.containers.get(up.instanceId)?.instance.outdated === undefined && a.pick('web') !== undefined, 5_000);
    assert.equal(a.status('web')?.state, 'running');
    assert.ok(!states.includes('stopped'), `never shown stopped: ${states.join(' → ')}`);
    assert.match(a.status('web')?.reason ?? '', /changed outside berth.*brought it back/);
  } finally {
    a.close();
    await rt.close();
  }
});

test('a stop while an instance is restarted in place (a drift repair): the stop wins, the instance is not left running under a stopped app', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt, { resyncEveryMs: NEVER });
  try {
    await a.reconcile([fakeSpec('web')]);
    const up = await a.acquire('web');
    // The repair's start takes a while: the stop comes in between the repair's stop and its start.
    rt.behave('web', { startDelayMs: 400 });
    const starts = rt.calls.start;
    rt.outsideEdit(up.instanceId);
    await eventually('the repair under way', () => rt.calls.start > starts, 5_000);
    await a.controller('web')!.stop('idle', 100);
    assert.equal(a.status('web')?.state, 'stopped');
    // The repair's start lands after the stop: its instance must be stopped again.
    await eventually('nothing left running', () => rt.running('web').length === 0 && rt.calls.stop >= 3, 5_000).catch((e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify({ running: rt.running('web').length, state: a.status('web')?.state, calls: rt.calls })}`);
    });
    // Nor is it taken up again afterwards (the engine's start event of the repair's start, adopted, undid the stop).
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(rt.running('web').length, 0, 'no instance runs on under a stopped app');
    assert.equal(a.status('web')?.state, 'stopped');
    // The next request wakes it as usual.
    rt.behave('web', {});
    await a.acquire('web');
    assert.equal(a.status('web')?.state, 'running');
    assert.equal(rt.running('web').length, 1);
  } finally {
    a.close();
    await rt.close();
  }
});

for (const how of ['resync', 'unreachable'] as const) {
  test(`a running instance the engine can no longer run (its Swarm task held back: the pinned node drained), its exit unheard: noticed by the ${how}, with the engine's reason`, async () => {
    const rt = new FakeRuntime();
    const a = fakeActivator(rt, { resyncEveryMs: NEVER });
    try {
      await a.reconcile([fakeSpec('web')]);
      const up = await a.acquire('web');
      // As the Swarm runtime reads such a service (service-instance.ts toInstance); the task poll's die was missed.
      const c = rt.containers.get(up.instanceId)!;
      const why = 'the swarm cannot place its task: no suitable node; the app has a volume and runs only on node db-host: is that node drained, paused or down?';
      Object.assign(c.instance, { state: 'exited', engineError: why });
      delete c.instance.address;
      if (how === 'resync') assert.equal(await a.resync(), true);
      else assert.equal(await a.controller('web')!.unreachable(up.instanceId), true, 'handled: the request is not answered with a proxy error');
      await eventually('no longer shown running', () => a.status('web')?.state === 'stopped', 5_000);
      assert.match(a.status('web')?.reason ?? '', /cannot place its task: no suitable node.*runs only on node db-host/);
      assert.equal(a.pick('web'), undefined, 'nothing dialled');
    } finally {
      a.close();
      await rt.close();
    }
  });
}
