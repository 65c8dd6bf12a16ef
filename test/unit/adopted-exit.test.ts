// An app whose container crashed, was killed for its memory or could not be run
// showed that while the gateway ran, and a bare `stopped` after a gateway restart:
// berth keeps no status across one, so what the engine still knows of the last
// container's end is told instead. An end berth's own stop gives stays a plain
// `stopped`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adoptedExit, lastEnded, type ExitRecord } from '../../src/activator/adopted-exit.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { fakeActivator, fakeSpec, waitForState } from '../support/fake-activator.js';

const AT = new Date('2026-01-01T10:00:00.000Z');
const BEFORE = '(before this gateway took the app over)';

// record → reason (undefined: told as nothing), and whether it is a failure (lastError).
const CASES: Array<[string, ExitRecord, string | undefined, boolean]> = [
  ['a clean exit, as berth\'s stop of an app that ends on SIGTERM', { exitCode: 0, finishedAt: AT }, undefined, false],
  ['SIGTERM, berth\'s stop', { exitCode: 143, finishedAt: AT }, undefined, false],
  ['SIGKILL, berth\'s stop of an app that ignores SIGTERM', { exitCode: 137, finishedAt: AT }, undefined, false],
  ['no exit code known (a swarm task gone)', {}, undefined, false],
  ['an exit code of the app\'s own', { exitCode: 3, finishedAt: AT }, `its container exited with code 3 at 2026-01-01T10:00:00.000Z ${BEFORE}`, true],
  ['an exit code with no time known', { exitCode: 1 }, `its container exited with code 1 ${BEFORE}`, true],
  ['another signal (an image\'s STOPSIGNAL may be berth\'s stop)', { exitCode: 130, finishedAt: AT }, `its container ended on signal 2 (code 130) at 2026-01-01T10:00:00.000Z ${BEFORE}`, false],
  ['the kernel\'s OOM kill, though its code is 137', { exitCode: 137, oomKilled: true, finishedAt: AT }, `its container was killed for lack of memory at 2026-01-01T10:00:00.000Z ${BEFORE}`, true],
  ['the engine could not run it', { exitCode: 127, engineError: 'exec: "/app": no such file', finishedAt: AT }, `the engine could not run its container at 2026-01-01T10:00:00.000Z ${BEFORE}: exec: "/app": no such file`, true],
  ['a blank engine error is none', { exitCode: 0, engineError: '  ', finishedAt: AT }, undefined, false],
];

for (const [name, record, reason, failure] of CASES) {
  test(`adoptedExit: ${name}`, () => {
    const told = adoptedExit(record);
    assert.equal(told?.reason, reason);
    assert.equal(told?.lastError !== undefined, failure);
  });
}

test('lastEnded: the container that ended last speaks for the app', () => {
  const early = { exitCode: 3, finishedAt: new Date(AT.getTime() - 60_000) };
  const late = { exitCode: 143, finishedAt: AT };
  assert.equal(lastEnded([late, early]), late);
  assert.equal(lastEnded([early, {}]), early);
  assert.equal(lastEnded([]), undefined);
});

test('gateway restart: a crash, a kill for its memory or berth\'s stop is told as the engine knows it, and the next start clears it', async () => {
  const cases: Array<[string, (rt: FakeRuntime, id: string) => Promise<void>, RegExp | undefined, RegExp | undefined]> = [
    ['crash', (rt, id) => rt.outsideKill(id, 3), /^its container exited with code 3 at \d{4}-\d\d-\d\dT.*Z \(before this gateway took the app over\)$/, /^the container exited with code 3$/],
    ['oom', (rt, id) => rt.oomKill(id), /killed for lack of memory/, /ran out of memory.*64 MiB.*resources\.memory/],
    ['berth\'s stop', async () => {}, undefined, undefined],
  ];
  for (const [name, end, reason, lastError] of cases) {
    const rt = new FakeRuntime();
    const first = fakeActivator(rt);
    const second = fakeActivator(rt);
    const spec = () => fakeSpec('web', { resources: { memory: '64m' } });
    try {
      await first.reconcile([spec()]);
      const up = await first.acquire('web');
      await end(rt, up.instanceId);
      if (name === 'berth\'s stop') await first.controller('web')!.stop('test', 100);
      await waitForState(first, 'web', 'stopped');
      first.close();
      await second.reconcile([spec()]);
      const status = second.status('web');
      assert.equal(status?.state, 'stopped', `${name}: the next request starts it`);
      if (reason) assert.match(status?.reason ?? '', reason, name);
      else assert.equal(status?.reason, undefined, `${name}: a plain stopped`);
      if (lastError) assert.match(status?.lastError ?? '', lastError, name);
      else assert.equal(status?.lastError, undefined, name);
      await second.acquire('web');
      assert.equal(second.status('web')?.state, 'running');
      assert.equal(second.status('web')?.reason, undefined, `${name}: a start clears the reason`);
      assert.equal(second.status('web')?.lastError, undefined, `${name}: a start clears the error`);
    } finally {
      first.close();
      second.close();
      await rt.close();
    }
  }
});

test('gateway restart: a start the engine refused is told with the engine\'s reason, which only an inspect of the created container has', async () => {
  const rt = new FakeRuntime();
  rt.behave('web', { startError: () => new Error('exec: "/app": no such file or directory') });
  const first = fakeActivator(rt);
  const second = fakeActivator(rt);
  try {
    await first.reconcile([fakeSpec('web')]);
    await assert.rejects(first.acquire('web'));
    assert.equal(first.status('web')?.state, 'failed');
    first.close();
    await second.reconcile([fakeSpec('web')]);
    const status = second.status('web');
    assert.equal(status?.state, 'stopped');
    assert.match(status?.reason ?? '', /^the engine could not run its container \(before this gateway took the app over\): exec: "\/app": no such file or directory$/);
    assert.equal(status?.lastError, 'the engine could not run the container: exec: "/app": no such file or directory');
  } finally {
    first.close();
    second.close();
    await rt.close();
  }
});

test('gateway restart: a container created ahead and never started is no failure, and an app never started says nothing', async () => {
  const rt = new FakeRuntime();
  const first = fakeActivator(rt);
  const second = fakeActivator(rt);
  try {
    await first.reconcile([fakeSpec('web')]);
    first.close();
    await second.reconcile([fakeSpec('web')]);
    assert.deepEqual([second.status('web')?.state, second.status('web')?.reason, second.status('web')?.lastError], ['stopped', undefined, undefined]);
  } finally {
    first.close();
    second.close();
    await rt.close();
  }
});
