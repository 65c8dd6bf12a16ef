import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Activator } from '../../src/activator/activator.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { eventually, fakeActivator, fakeSpec, waitForState } from '../support/fake-activator.js';

/**
 * A stop the engine does not carry out (it does not answer, or refuses) leaves
 * the container running. The app showed stopped while it ran on, and nothing
 * stopped it again (no idle clock runs for a stopped app): found by the model
 * test (a hung engine while another app idled out). Its stop is now tried again
 * once the engine answers.
 */
const cases: ReadonlyArray<{ what: string; spec: Record<string, unknown>; stop: (a: Activator) => Promise<void> | void }> = [
  { what: 'an idle stop', spec: { idleTimeout: '150ms' }, stop: () => undefined },
  { what: 'an idle pause (which falls back on a stop)', spec: { idleTimeout: '150ms', idleAction: 'pause' }, stop: () => undefined },
  { what: 'a stop by the API', spec: {}, stop: (a) => a.controller('web')!.stop('stopped by the API', 0) },
];

for (const c of cases) {
  test(`${c.what} the engine did not carry out is tried again: the app does not show stopped while its container runs on`, async () => {
    const rt = new FakeRuntime();
    const a = fakeActivator(rt);
    try {
      await a.reconcile([fakeSpec('web', c.spec)]);
      await a.acquire('web');
      rt.engineDown = true;
      await c.stop(a);
      await waitForState(a, 'web', 'stopped', 3_000);
      assert.equal(rt.running('web').length, 1, 'the engine did not stop it');
      rt.engineDown = false;
      await eventually('the container is stopped once the engine answers', () => rt.running('web').length === 0, 5_000);
      assert.equal(a.status('web')?.state, 'stopped');
      // And it still wakes as any stopped app does.
      await a.acquire('web');
      assert.equal(a.status('web')?.state, 'running');
      assert.equal(rt.running('web').length, 1);
    } finally {
      a.close();
      await rt.close();
    }
  });
}
