// On Swarm a task that moves (its node down or drained) reads as an exit, and the orchestrator puts a
// new task up seconds later, which berth adopts. A `berth stop` in between found the app stopped and did
// nothing, so the app ended up running. A stop now stops what exited without berth's stop too (on Swarm:
// the service is scaled to 0, so no new task comes); for a container that is down the engine does nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeRuntime } from '../support/fake-runtime.js';
import { fakeActivator, fakeSpec, waitForState } from '../support/fake-activator.js';

test('a stop between an exit and the orchestrator putting the instance back: the instance stays stopped', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  // The orchestrator: it puts back an instance that ended, unless berth stopped it since.
  const stoppedByBerth = new Set<string>();
  const stop = rt.stop.bind(rt);
  rt.stop = async (id: string) => {
    stoppedByBerth.add(id);
    return stop(id);
  };
  try {
    await a.reconcile([fakeSpec('web')]);
    await a.acquire('web');
    const id = rt.running('web')[0]!.id;
    await rt.outsideKill(id, 137);
    await waitForState(a, 'web', 'stopped', 3_000);
    await a.controller('web')!.stop('stopped through the API');
    assert.ok(stoppedByBerth.has(id), 'the stop reached the instance that exited by itself');
    // A second stop of the stopped app asks the engine nothing more.
    const calls = rt.calls.stop;
    await a.controller('web')!.stop('stopped through the API');
    assert.equal(rt.calls.stop, calls);
    assert.equal(a.status('web')?.state, 'stopped');
  } finally {
    a.close();
    await rt.close();
  }
});
