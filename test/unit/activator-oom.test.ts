import { test } from 'node:test';
import assert from 'node:assert/strict';
import { duringStart } from '../../src/activator/start-watch.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { eventually, fakeActivator, fakeSpec, waitForState } from '../support/fake-activator.js';

test('oom: an app whose container ran out of memory says so, not only "exited with code 137"', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web', { resources: { memory: '64m' } })]);
    const up = await a.acquire('web');
    await rt.oomKill(up.instanceId);
    await waitForState(a, 'web', 'stopped');
    assert.match(a.status('web')?.lastError ?? '', /ran out of memory.*64 MiB.*resources\.memory/);
    // A plain kill later is not mistaken for one.
    const again = await a.acquire('web');
    await rt.outsideKill(again.instanceId, 137);
    await waitForState(a, 'web', 'stopped');
    assert.equal(a.status('web')?.lastError, 'the container exited with code 137');
  } finally {
    a.close();
    await rt.close();
  }
});

test('oom: a start that fails because the container ran out of memory says so', async () => {
  const rt = new FakeRuntime();
  try {
    const spec = fakeSpec('web');
    const created = await rt.ensure(spec, 0);
    const started = await rt.start(created.id);
    await rt.oomKill(created.id);
    const seen = duringStart(started, await rt.inspect(created.id));
    assert.equal(seen.kind, 'failed', 'a kill for its memory is no restart to wait for, though its code is 137');
    assert.match(seen.kind === 'failed' ? seen.reason : '', /^the container ran out of memory and was killed \(code 137\)/);
  } finally {
    await rt.close();
  }
});

test('oom: a container killed for its memory during a start is not said to be out of memory when it later crashes for another reason', async () => {
  const rt = new FakeRuntime();
  rt.behave('web', { neverReady: true });
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web', { startTimeout: '5s' })]);
    const starting = a.acquire('web');
    await eventually('the container runs, not ready yet', () => rt.running('web').length === 1);
    const id = rt.running('web')[0]!.id;
    await rt.oomKill(id);
    await assert.rejects(starting, /ran out of memory/);
    // The same container starts again and serves, then dies of something else.
    rt.behave('web', {});
    const up = await a.acquire('web');
    assert.equal(up.instanceId, id);
    await rt.outsideKill(id, 1);
    await waitForState(a, 'web', 'stopped');
    assert.equal(a.status('web')?.lastError, 'the container exited with code 1');
  } finally {
    a.close();
    await rt.close();
  }
});
