/**
 * The barrier before a stop (quiesce: the proxy workers' reports, the other gateways' fence)
 * fails when the store is away (several gateways: the fence reads the registry back). A stop
 * asked for, a scale-down or a rollout took instances out of rotation first: the failure left
 * them there for good, the app serving nothing and showing `stopping`, the instances running.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { fakeActivator, fakeSpec, waitForState } from '../support/fake-activator.js';
import { FakeRuntime } from '../support/fake-runtime.js';

function failingBarrier(): { quiesce: (app: string) => Promise<void>; refuse(): void; refused: () => number } {
  let refuse = false;
  let refused = 0;
  return {
    quiesce: async () => {
      if (!refuse) return;
      refused++;
      throw new Error('the store cannot be reached');
    },
    refuse: () => (refuse = true),
    refused: () => refused,
  };
}

test('a stop whose barrier fails (the store away) still stops the app', async () => {
  const rt = new FakeRuntime();
  const barrier = failingBarrier();
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
  const a = fakeActivator(rt, { quiesce: barrier.quiesce, logger });
  try {
    await a.reconcile([fakeSpec('web')]);
    await a.acquire('web');
    barrier.refuse();
    await a.controller('web')!.stop('stopped through the API');
    assert.ok(barrier.refused() > 0, 'the barrier was asked');
    await waitForState(a, 'web', 'stopped');
    assert.equal(rt.running('web').length, 0);
    // The operator is told the stop went ahead without the others heard, and why.
    const told = lines.map((l) => JSON.parse(l) as { app?: string; err?: string; msg: string }).find((l) => /barrier/.test(l.msg));
    assert.equal(told?.app, 'web');
    assert.equal(told?.err, 'the store cannot be reached');
  } finally {
    a.close();
    await rt.close();
  }
});

test('a scale-down whose barrier fails still retires the extra instance', async () => {
  const rt = new FakeRuntime();
  const barrier = failingBarrier();
  const a = fakeActivator(rt, { quiesce: barrier.quiesce });
  try {
    await a.reconcile([fakeSpec('web', { scale: { min: 1, max: 2 } })]);
    await a.acquire('web');
    const controller = a.controller('web')!;
    await controller.setReplicas(2);
    for (let i = 0; i < 300 && rt.running('web').length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(rt.running('web').length, 2);
    barrier.refuse();
    await controller.setReplicas(1);
    assert.ok(barrier.refused() > 0, 'the barrier was asked');
    assert.equal(rt.running('web').length, 1);
    assert.equal(controller.slotUpstreams.length, 1);
    assert.equal(a.status('web')?.state, 'running');
  } finally {
    a.close();
    await rt.close();
  }
});

test('a rollout whose barrier fails still retires the old revision, and the app serves the new one', async () => {
  const rt = new FakeRuntime();
  const barrier = failingBarrier();
  const a = fakeActivator(rt, { quiesce: barrier.quiesce });
  try {
    await a.reconcile([fakeSpec('web')]);
    await a.acquire('web');
    barrier.refuse();
    await a.reconcile([fakeSpec('web', { image: 'fake/app:2' })]);
    assert.ok(barrier.refused() > 0, 'the barrier was asked');
    assert.equal(a.status('web')?.state, 'running');
    assert.equal(a.status('web')?.lastError, undefined, 'not rolled back');
    assert.equal(rt.running('web').length, 1);
    assert.equal(a.controller('web')!.spec.image, 'fake/app:2');
    assert.equal(a.controller('web')!.slotUpstreams.length, 1);
    assert.ok(a.pick('web'), 'an instance serves');
  } finally {
    a.close();
    await rt.close();
  }
});
