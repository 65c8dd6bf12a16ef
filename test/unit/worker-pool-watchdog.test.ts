// The control's watchdog over its proxy worker processes (real forks of worker-main.js on
// the fake engine; no Docker): a hung worker is killed and replaced, one that answers is
// left alone, and none is killed for the control itself stalling. A file of its own: its
// waits (~10 s) run beside worker-pool.test.ts's instead of after them.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../support/fake-activator.js';
import { closeMadeActivators, pool } from '../support/worker-pool-harness.js';

after(closeMadeActivators);

test('a hung worker (SIGSTOP) is killed and replaced; one that answers is left alone, and so are all when the control itself stalled', { timeout: 30_000 }, async (t) => {
  // hungAfterMs leaves a worker on a loaded machine time to answer; the stall below outlasts it.
  const workers = await pool(2, undefined, { pingEveryMs: 100, hungAfterMs: 2_000 });
  t.after(() => workers.close(1_000));
  await workers.listen('127.0.0.1', 0);
  const before = workers.pids;
  // The control blocked past hungAfterMs: the workers' pongs wait unread, which is no sign of a hung worker.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2_500);
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.deepEqual(workers.pids, before, 'no worker killed for the control stalling');
  const [hung, live] = before;
  process.kill(hung!, 'SIGSTOP');
  t.after(() => {
    try {
      process.kill(hung!, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  });
  await eventually('the hung worker replaced', () => workers.pids.length === 2 && !workers.pids.includes(hung!), 10_000);
  assert.ok(workers.pids.includes(live!), 'the worker that answers was left alone');
  assert.throws(() => process.kill(hung!, 0), /ESRCH/, 'the hung worker is gone');
});

test('a worker still starting is not taken for hung at the ping bound: a start slower than hungAfterMs listens, it is not killed', { timeout: 30_000 }, async (t) => {
  // Loading the gateway's modules alone takes a worker longer than 150 ms; a loaded CI machine once took past 2 s.
  const workers = await pool(2, undefined, { pingEveryMs: 20, hungAfterMs: 150 });
  t.after(() => workers.close(1_000));
  const began = performance.now();
  const address = await workers.listen('127.0.0.1', 0);
  assert.ok(performance.now() - began > 150, 'the start outlasted the ping bound, so the test shows something');
  assert.ok(address.port > 0);
});
