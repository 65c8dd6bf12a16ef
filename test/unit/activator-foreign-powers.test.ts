// A container running under berth's labels with powers over the host the policy denies
// (made and started outside berth, its spec hash copied): labels are only strings, so it
// is never adopted nor routed to, whichever way berth finds it (gateway start, the
// engine's start event, a resync); the gateway that acts removes it, says so, and serves
// the app from a container of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type Docker from 'dockerode';
import pino from 'pino';
import { FakeRuntime, sleep } from '../support/fake-runtime.js';
import { eventually, fakeActivator, fakeSpec, waitForState } from '../support/fake-activator.js';
import { foreignRunning } from '../../src/activator/app-controller.js';
import { toInstance } from '../../src/runtime/docker/instance.js';

const NEVER = 600_000;
const POWERS = ['privileged', 'bind mounts given as Binds (/:/host)'];

function warnings(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

/** A forged container of `spec`, made outside berth with POWERS, running or only created. */
async function forged(rt: FakeRuntime, spec = fakeSpec('web'), running = true): Promise<string> {
  const id = await rt.outsideCreate(spec, 0, false);
  rt.outsidePowers(id, POWERS);
  if (running) await rt.outsideStart(id);
  return id;
}

function assertTold(lines: ReadonlyArray<Record<string, unknown>>, removed: boolean): void {
  const line = lines.find((l) => String(l['msg']).includes('berth-web-0') && String(l['msg']).includes('privileged'));
  assert.ok(line, `a warning names the container and its powers: ${JSON.stringify(lines)}`);
  assert.deepEqual(line['powers'], POWERS);
  assert.equal(String(line['msg']).includes('is removed'), removed);
}

test('gateway start: a running forged container is not adopted but removed; the app serves from its own', async () => {
  const rt = new FakeRuntime();
  const { logger, lines } = warnings();
  const a = fakeActivator(rt, { resyncEveryMs: NEVER, logger });
  try {
    const bad = await forged(rt);
    await a.reconcile([fakeSpec('web')]);
    assert.equal(a.status('web')?.state, 'stopped', 'not adopted as running');
    assert.equal(a.pick('web'), undefined, 'nothing routed to it');
    assert.equal((await rt.inspect(bad)), undefined, 'removed');
    assertTold(lines, true);
    const up = await a.acquire('web');
    assert.notEqual(up.instanceId, bad);
    assert.equal((await rt.inspect(up.instanceId))?.hostPowers, undefined, 'served from a container berth made');
  } finally {
    a.close();
    await rt.close();
  }
});

test('gateway start, an always-on app: the forged container goes and berth starts its own', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt, { resyncEveryMs: NEVER });
  try {
    const spec = fakeSpec('web', { scale: { min: 1 } });
    const bad = await forged(rt, spec);
    await a.reconcile([spec]);
    await waitForState(a, 'web', 'running');
    const serving = a.pick('web');
    assert.ok(serving && serving.instanceId !== bad, 'routed to berth\'s own container');
    assert.equal(await rt.inspect(bad), undefined);
  } finally {
    a.close();
    await rt.close();
  }
});

test('the engine\'s start event of a forged container while the app is down: not adopted, removed', async () => {
  const rt = new FakeRuntime();
  const { logger, lines } = warnings();
  const a = fakeActivator(rt, { resyncEveryMs: NEVER, logger });
  try {
    await a.reconcile([fakeSpec('web')]);
    const bad = await forged(rt);
    await eventually('the forged container removed', () => rt.running('web').length === 0);
    assert.equal(a.status('web')?.state, 'stopped');
    assert.equal(a.pick('web'), undefined);
    assert.equal(await rt.inspect(bad), undefined);
    assertTold(lines, true);
  } finally {
    a.close();
    await rt.close();
  }
});

test('resync, the start event lost: a forged running container is not adopted, removed', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt, { resyncEveryMs: NEVER });
  try {
    await a.reconcile([fakeSpec('web')]);
    rt.eventsLost = true;
    const bad = await forged(rt);
    assert.equal(await a.resync(), true);
    await eventually('the forged container removed', () => rt.running('web').length === 0);
    assert.equal(a.status('web')?.state, 'stopped');
    assert.equal(a.pick('web'), undefined);
    assert.equal(await rt.inspect(bad), undefined);
  } finally {
    a.close();
    await rt.close();
  }
});

test('a gateway that does not lead: does not adopt it, and leaves removing it to the leader', async () => {
  const rt = new FakeRuntime();
  const { logger, lines } = warnings();
  const a = fakeActivator(rt, { resyncEveryMs: NEVER, logger, acts: () => false });
  try {
    const bad = await forged(rt);
    await a.reconcile([fakeSpec('web')]);
    await sleep(50);
    assert.equal(a.status('web')?.state, 'stopped');
    assert.equal(a.pick('web'), undefined);
    assert.equal((await rt.inspect(bad))?.state, 'running', 'the leader removes it');
    assertTold(lines, false);
    // Every resync finds it again until the leader removes it: said once, not once a resync.
    await a.resync();
    await a.resync();
    assert.equal(a.pick('web'), undefined);
    assert.equal(lines.filter((l) => String(l.msg).includes('not adopted')).length, 1, JSON.stringify(lines));
  } finally {
    a.close();
    await rt.close();
  }
});

test('foreignRunning: a forged container found stopped is kept (its start refuses it); one whose spec grants its powers is berth\'s own', () => {
  const spec = fakeSpec('web');
  assert.deepEqual(foreignRunning({ state: 'exited', hostPowers: POWERS }, spec), []);
  assert.deepEqual(foreignRunning({ state: 'running', hostPowers: POWERS }, spec), POWERS);
  assert.deepEqual(foreignRunning({ state: 'paused', hostPowers: POWERS }, spec), POWERS, 'a wake thaws a frozen one without a start');
  assert.deepEqual(foreignRunning({ state: 'running' }, spec), []);
  assert.deepEqual(foreignRunning({ state: 'running', hostPowers: [] }, spec), []);
  // Made by berth when the policy allowed what the spec asks; the policy narrowed since: it runs on
  // until stopped, as a reload leaves it. Only what the spec does not grant marks a forged one.
  const privileged = { ...spec, security: { ...spec.security, privileged: true, capAdd: ['NET_ADMIN'], hostNetwork: true } };
  const own = ['privileged', 'capability NET_ADMIN', 'the host network'];
  assert.deepEqual(foreignRunning({ state: 'running', hostPowers: own }, privileged), []);
  assert.deepEqual(foreignRunning({ state: 'running', hostPowers: [...own, 'capability SYS_ADMIN', 'the host PID namespace'] }, privileged), ['capability SYS_ADMIN', 'the host PID namespace']);
  assert.deepEqual(foreignRunning({ state: 'running', hostPowers: own }, spec), own);
});

test('toInstance: every power over the host, from the inspect document read anyway; foreignRunning weighs them against the spec alone', () => {
  const info = (host: Docker.HostConfig) =>
    ({
      Id: 'c1',
      Name: '/berth-web-0',
      Config: { Labels: { 'berth.managed': 'true', 'berth.app': 'web', 'berth.index': '0', 'berth.spec-hash': 'h' } },
      State: { Status: 'running', StartedAt: '2026-01-01T00:00:00Z' },
      HostConfig: host,
      NetworkSettings: { Ports: {} },
    }) as unknown as Docker.ContainerInspectInfo;
  assert.deepEqual(toInstance(info({ Privileged: true, CapAdd: ['CAP_NET_ADMIN', 'CAP_SYS_ADMIN'] }), '127.0.0.1').hostPowers, ['privileged', 'capability NET_ADMIN', 'capability SYS_ADMIN']);
  assert.equal(toInstance(info({})).hostPowers, undefined, 'none');
  // A power the gateway's policy allows (NET_ADMIN, say) but the app's spec does not ask for: berth never
  // gave it, so a running container with it was made outside berth. It was adopted, being within the policy.
  const spec = fakeSpec('web');
  const withCap = toInstance(info({ CapAdd: ['CAP_NET_ADMIN'] }));
  assert.deepEqual(foreignRunning(withCap, spec), ['capability NET_ADMIN']);
  assert.deepEqual(foreignRunning(withCap, { ...spec, security: { ...spec.security, capAdd: ['NET_ADMIN'] } }), [], 'its spec asks for it: berth made it so');
});
