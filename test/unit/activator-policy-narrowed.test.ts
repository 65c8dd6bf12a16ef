/**
 * The gateway's launch policy may narrow after an app was accepted (a reload checks
 * only the config's own apps against it). Every container berth makes or starts for
 * the app from then on must be refused, not only the cold start's: scaling up,
 * restarting an instance and creating ahead must not run what the policy denies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AppDefaults } from '../../src/activator/app-controller.js';
import type { DockerPolicy } from '../../src/spec/types.js';
import { FakeRuntime, sleep } from '../support/fake-runtime.js';
import { fakeActivator, fakeSpec } from '../support/fake-activator.js';

const DENY: DockerPolicy = { images: [], networks: [], bindMountRoots: [], allowPrivileged: false, capabilities: [], allowHostNetwork: false, allowHostPid: false };
const ALLOW_PRIVILEGED: DockerPolicy = { ...DENY, allowPrivileged: true };

function defaults(policy: DockerPolicy): AppDefaults {
  return { idleTimeoutMs: 600_000, queueSize: 1_000, waitingPage: {}, policy };
}

const privileged = () => fakeSpec('root', { security: { privileged: true }, scale: { min: 0, max: 3 } });

test('scaling up an app the policy no longer allows starts no new container', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt, { defaults: defaults(ALLOW_PRIVILEGED) });
  try {
    await a.reconcile([privileged()]);
    await a.acquire('root');
    assert.equal(rt.running('root').length, 1);
    const ensures = rt.calls.ensure;
    a.setDefaults(defaults(DENY));
    await a.controller('root')!.setReplicas(3);
    await sleep(300);
    assert.equal(rt.running('root').length, 1, 'no replica of a privileged app starts once the policy denies it');
    assert.equal(rt.calls.ensure, ensures, 'no container is even created for it');
  } finally {
    a.close();
    await rt.close();
  }
});

test('an app the policy does not allow is not created ahead of its first request', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt, { defaults: defaults(DENY) });
  try {
    await a.reconcile([privileged()]);
    assert.equal(rt.calls.ensure, 0, 'no container is created for a privileged app the policy denies');
    await assert.rejects(a.acquire('root'), /policy no longer allows it/);
  } finally {
    a.close();
    await rt.close();
  }
});

test('a changed spec the policy does not allow is not rolled out: no container of it is made, the running revision serves on', async () => {
  // How it arrives: another gateway on the store, with a wider policy, accepted the change.
  const rt = new FakeRuntime();
  const a = fakeActivator(rt, { defaults: defaults(ALLOW_PRIVILEGED) });
  try {
    await a.reconcile([privileged()]);
    await a.acquire('root');
    const [before] = rt.running('root');
    const ensures = rt.calls.ensure;
    a.setDefaults(defaults(DENY));
    await a.reconcile([fakeSpec('root', { security: { privileged: true }, scale: { min: 0, max: 3 }, env: { REVISION: '2' } })]).catch(() => undefined);
    await sleep(300);
    assert.equal(rt.calls.ensure, ensures, 'no container of the new revision is created');
    assert.deepEqual(rt.running('root').map((i) => i.id), [before!.id], 'the running revision keeps serving');
    assert.match(a.status('root')?.lastError ?? '', /policy no longer allows it: app "root" asks to run privileged/);
  } finally {
    a.close();
    await rt.close();
  }
});
