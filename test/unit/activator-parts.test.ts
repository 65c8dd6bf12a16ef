import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import pino from 'pino';
import { AppTimers } from '../../src/activator/app-timers.js';
import { DependencyHold } from '../../src/activator/dependency-hold.js';
import { EARLY_EXIT_MS, exitDecision, type ExitDecision, type ExitFacts } from '../../src/activator/instance-failure.js';
import { InstanceSet } from '../../src/activator/instance-set.js';
import { Slot } from '../../src/activator/instance-slot.js';
import type { Instance } from '../../src/runtime/runtime.js';
import { FakeRuntime, sleep } from '../support/fake-runtime.js';
import { eventually, fakeActivator, fakeSpec } from '../support/fake-activator.js';

const running: ExitFacts = { tracked: true, outOfRotation: false, appRunning: true, stale: false, othersLeft: 0, exitCode: 1, upForMs: 10, mustRun: false };

test('exitDecision: what an instance exit means, case by case', () => {
  const cases: Array<[string, Partial<ExitFacts>, ExitDecision]> = [
    ['an unknown container', { tracked: false }, { kind: 'ignore' }],
    ['berth drained it (stop, scale-down, update)', { outOfRotation: true }, { kind: 'ignore' }],
    ['berth restarts it after failed health checks', { outOfRotation: true, exitCode: 137 }, { kind: 'ignore' }],
    ['the app is not running (stopping, stopped)', { appRunning: false }, { kind: 'ignore' }],
    ['a late event about an earlier run', { stale: true }, { kind: 'ignore' }],
    ['one of several crashes', { othersLeft: 2 }, { kind: 'replace', crashed: true }],
    ['one of several exits cleanly', { othersLeft: 1, exitCode: 0 }, { kind: 'replace', crashed: false }],
    ['the last crashes soon after its start', {}, { kind: 'last', crashed: true, early: true }],
    ['the last crashes after a long run', { upForMs: EARLY_EXIT_MS + 1 }, { kind: 'last', crashed: true, early: false }],
    ['the last exits 0 by itself (quits when idle)', { exitCode: 0, upForMs: EARLY_EXIT_MS * 2 }, { kind: 'last', crashed: false, early: false }],
    ['the last vanishes without an exit code', { exitCode: undefined }, { kind: 'last', crashed: false, early: true }],
    ['the last of an app that must always run exits 0 soon after its start', { exitCode: 0, mustRun: true }, { kind: 'last', crashed: true, early: true }],
    ['one of several of an app that must always run exits 0', { exitCode: 0, mustRun: true, othersLeft: 1 }, { kind: 'replace', crashed: true }],
    ['the last of an app that must always run vanishes without an exit code', { exitCode: undefined, mustRun: true }, { kind: 'last', crashed: false, early: true }],
    ['the last is killed from outside soon after its start (docker kill)', { exitCode: 137, signalled: true }, { kind: 'last', crashed: false, early: true }],
    ['one of several is stopped from outside (docker stop)', { exitCode: 143, signalled: true, othersLeft: 1 }, { kind: 'replace', crashed: false }],
    ['the last of an app that must always run is killed from outside', { exitCode: 137, signalled: true, mustRun: true }, { kind: 'last', crashed: false, early: true }],
  ];
  for (const [what, facts, expected] of cases) assert.deepEqual(exitDecision({ ...running, ...facts }), expected, what);
});

function instance(index: number, hash = 'h1', state: Instance['state'] = 'running'): Instance {
  return { id: `c${index}-${hash}`, name: `web-${index}`, app: 'web', index, specHash: hash, state, health: 'none', address: { host: '127.0.0.1', port: 1000 + index } };
}

test('InstanceSet: the balancer sees only slots in rotation, and a retry can exclude one', () => {
  const set = new InstanceSet('round-robin', 'web');
  const [a, b] = [new Slot(0, instance(0), 'h1'), new Slot(1, instance(1), 'h1')];
  set.setSlots([a, b]);
  assert.equal(set.readyCount, 2);
  assert.equal(set.pick(undefined, a.instance.id)?.instanceId, b.instance.id);
  set.takeOutOfRotation(b, 'unhealthy');
  assert.equal(set.readyCount, 1);
  assert.equal(set.pick(undefined, a.instance.id), undefined, 'the only one in rotation is excluded');
  assert.equal(set.live.length, 2, 'an unhealthy instance still counts as a replica');
  set.takeOutOfRotation(a, 'draining');
  assert.equal(set.live.length, 1);
  assert.equal(set.pick(), undefined);
});

test('InstanceSet: the ready answer is one reused object, the kept answer a fresh one', () => {
  const set = new InstanceSet('least-connections', 'web');
  set.add(new Slot(0, instance(0), 'h1'));
  const req = { headers: {} } as IncomingMessage;
  assert.equal(set.admitReady(req), set.admitReady(req), 'no allocation on the hot path');
  assert.notEqual(set.admitted(req), set.admitted(req));
  assert.equal(set.admitted(req)?.upstream.port, 1000);
});

test('InstanceSet: replica starts reuse parked containers of the spec first, then the lowest free indexes', () => {
  const set = new InstanceSet('least-connections', 'web');
  set.add(new Slot(0, instance(0), 'h1'));
  set.setParked([instance(1, 'old', 'exited'), instance(2, 'h1', 'exited'), instance(4, 'h1', 'exited')]);
  const starts = set.claimReplicaStarts('h1', 4);
  assert.deepEqual(
    starts.map((s) => [s.index, s.existing?.id]),
    [
      [2, 'c2-h1'],
      [4, 'c4-h1'],
      [3, undefined],
      [5, undefined],
    ],
  );
  assert.deepEqual(
    set.parked.map((i) => i.id),
    ['c1-old'],
    'claimed containers leave the parked list; the old spec is kept until forgotten',
  );
  assert.deepEqual(set.firstIndex('h1'), { index: 0, existing: undefined });
});

test('InstanceSet: readySoon resolves as soon as an instance joins, or at its bound', async () => {
  const set = new InstanceSet('least-connections', 'web');
  const began = performance.now();
  await set.readySoon(30);
  assert.ok(performance.now() - began >= 25, 'bounded wait without an instance');
  const waiting = set.readySoon(5_000);
  setTimeout(() => set.add(new Slot(0, instance(0), 'h1')), 20);
  await waiting;
  assert.ok(performance.now() - began < 2_000);
  assert.equal(set.readyCount, 1);
});

test('DependencyHold: dependencies are woken once and released once', async () => {
  let wakes = 0;
  let releases = 0;
  const hold = new DependencyHold(async () => {
    wakes++;
    return () => releases++;
  });
  const spec = fakeSpec('web');
  await hold.take(spec);
  await hold.take(spec);
  assert.equal(wakes, 1, 'a second start while held wakes nothing');
  hold.release();
  hold.release();
  assert.equal(releases, 1);
  await hold.take(spec);
  assert.equal(wakes, 2, 'released, the next start wakes them again');
  await new DependencyHold(undefined).take(spec);
});

test('AppTimers: the removal fires after its delay, is cancelled by a start, and needs a setting', async () => {
  const timers = new AppTimers(() => undefined);
  let removed = 0;
  timers.armRemoval(20, () => removed++);
  await sleep(60);
  assert.equal(removed, 1);
  timers.armRemoval(20, () => removed++);
  timers.cancelRemoval();
  timers.armRemoval(undefined, () => removed++);
  await sleep(60);
  assert.equal(removed, 1);
  timers.stopAll();
});

test('a health-check restart is a restart in place, not an exit: the app stays running', async () => {
  const rt = new FakeRuntime();
  rt.behave('web', { sickAfterMs: 300 });
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  const a = fakeActivator(rt, { logger });
  try {
    await a.reconcile([fakeSpec('web', { health: { path: '/healthz', interval: '30ms', timeout: '200ms', unhealthyThreshold: 2 } })]);
    const first = await a.acquire('web');
    await eventually('restarted after failing its checks', () => lines.some((l) => l.includes('back in rotation')));
    assert.equal(a.status('web')?.state, 'running');
    assert.equal(a.status('web')?.readyInstances, 1);
    const again = await a.acquire('web').catch((err: unknown) => {
      throw new Error(`${String(err)}; the log: ${lines.map((l) => JSON.parse(l).msg).join(' | ')}`);
    });
    assert.equal(again.instanceId, first.instanceId, 'the same container, restarted');
    assert.equal(rt.calls.start, 2);
    assert.ok(!lines.some((l) => l.includes('exited by itself')), 'berth stopped it: no exit is reported');
    assert.ok(lines.some((l) => l.includes('failed its health checks')));
  } finally {
    a.close();
    await rt.close();
  }
});
