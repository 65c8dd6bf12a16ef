// FreshRun: a caller during a run gets a run that began after its call (the
// fence's answer must follow a heartbeat that wrote the activity of now).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FreshRun } from '../../src/cluster/gateways/fresh-run.js';

function gatedTask() {
  const runs: Array<{ began: number; finish: () => void }> = [];
  let clock = 0;
  const task = () =>
    new Promise<void>((resolve) => {
      runs.push({ began: ++clock, finish: resolve });
    });
  return { runs, task };
}

test('a call while a run is under way resolves only after a run that began after the call', async () => {
  const { runs, task } = gatedTask();
  const fresh = new FreshRun(task);
  void fresh.run();
  assert.equal(runs.length, 1);
  let done = false;
  const second = fresh.run().then(() => (done = true));
  runs[0]!.finish();
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false, 'answered by the run that began before the call');
  assert.equal(runs.length, 2, 'a second run began');
  runs[1]!.finish();
  await second;
  assert.equal(done, true);
});

test('callers during one run share the next run; an idle call runs at once', async () => {
  const { runs, task } = gatedTask();
  const fresh = new FreshRun(task);
  void fresh.run();
  const a = fresh.run();
  const b = fresh.run();
  runs[0]!.finish();
  await new Promise((r) => setImmediate(r));
  assert.equal(runs.length, 2);
  runs[1]!.finish();
  await Promise.all([a, b]);
  assert.equal(runs.length, 2);
  const c = fresh.run();
  assert.equal(runs.length, 3);
  runs[2]!.finish();
  await c;
});
