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
