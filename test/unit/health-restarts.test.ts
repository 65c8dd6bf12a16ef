/**
 * Health-check restarts through the controller, on the fake runtime (its containers answer on 127.0.0.1):
 * when every instance fails its checks at once they are restarted one at a time, so the app keeps serving;
 * a restarted instance rejoins only once it has passed `healthyThreshold` checks in a row.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { FakeRuntime } from '../support/fake-runtime.js';
import { eventually, fakeActivator, fakeSpec } from '../support/fake-activator.js';

/** A logger whose lines are kept, parsed. */
function keptLog() {
  const lines: { msg: string; time: number; instance?: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { lines, logger };
}

const OUT = 'instance out of rotation; restarting it';
const BACK = 'instance restarted and back in rotation';

test('every instance failing its health checks at once: restarted one at a time, the others serve meanwhile', async () => {
  const rt = new FakeRuntime();
  // Each fails its checks from shortly after it is ready, until restarted (a shared dependency down, then back).
  rt.behave('web', { sickAfterMs: 100 });
  const { lines, logger } = keptLog();
  const a = fakeActivator(rt, { logger });
  try {
    await a.reconcile([fakeSpec('web', { scale: { min: 3, max: 3 }, health: { path: '/healthz', interval: '30ms', timeout: '1s', unhealthyThreshold: 2 } })]);
    await a.acquire('web');
    await eventually('three ready', () => a.status('web')?.readyInstances === 3, 10_000);
    await eventually('all three restarted and back', () => lines.filter((l) => l.msg === BACK).length === 3, 20_000);
    // Never more than one out for its health at a time, by the order of what the controller did.
    let out = 0;
    let most = 0;
    for (const line of lines) {
      if (line.msg === OUT) most = Math.max(most, ++out);
      if (line.msg === BACK) out--;
    }
    assert.equal(most, 1, `out at once: ${most}; ${lines.map((l) => l.msg).join(' | ')}`);
    assert.equal(a.status('web')?.state, 'running');
    assert.equal(a.status('web')?.readyInstances, 3);
  } finally {
    a.close();
    await rt.close();
  }
});

test('a restarted instance rejoins after healthyThreshold passed checks in a row, not as soon as it is ready', async () => {
  const rt = new FakeRuntime();
  rt.behave('web', { sickAfterMs: 100 });
  const { lines, logger } = keptLog();
  const a = fakeActivator(rt, { logger });
  const intervalMs = 50;
  try {
    await a.reconcile([fakeSpec('web', { scale: { min: 2, max: 2 }, health: { path: '/healthz', interval: `${intervalMs}ms`, timeout: '1s', unhealthyThreshold: 2, healthyThreshold: 3 } })]);
    await a.acquire('web');
    await eventually('one restarted and back', () => lines.some((l) => l.msg === BACK), 20_000);
    const out = lines.find((l) => l.msg === OUT)!;
    const back = lines.find((l) => l.msg === BACK && l.instance === out.instance)!;
    assert.ok(back, 'the instance taken out is the one back');
    // Three checks in a row, an interval apart: at least two intervals after it was taken out (the fake restarts at once).
    assert.ok(back.time - out.time >= 2 * intervalMs - 10, `back ${back.time - out.time} ms after it was taken out`);
  } finally {
    a.close();
    await rt.close();
  }
});

test('a restarted instance that is ready but fails its health checks does not rejoin, and the log says why', async () => {
  const rt = new FakeRuntime();
  rt.behave('web', { sickAfterMs: 100 });
  const { lines, logger } = keptLog();
  const a = fakeActivator(rt, { logger });
  try {
    // No readiness path: any answer is ready, a 503 too; the health check asks for 2xx or 3xx.
    await a.reconcile([fakeSpec('web', { readiness: undefined, startTimeout: '300ms', scale: { min: 2, max: 2 }, health: { path: '/healthz', interval: '30ms', timeout: '500ms', unhealthyThreshold: 2 } })]);
    await a.acquire('web');
    await eventually('two ready', () => a.status('web')?.readyInstances === 2, 10_000);
    // Its restart answers 503 for good.
    rt.behave('web', { neverReady: true });
    await eventually('a restart that failed', () => lines.some((l) => l.msg === 'instance restart failed'), 20_000);
    assert.match(JSON.stringify(lines.find((l) => l.msg === 'instance restart failed')), /did not pass 1 health checks in a row \(health check \/healthz answered 503\)/);
    assert.ok(!lines.some((l) => l.msg === BACK), 'not back in rotation');
  } finally {
    a.close();
    await rt.close();
  }
});

test('a restarted instance waiting to pass its health checks rejoins once no other instance is left in rotation', async () => {
  const rt = new FakeRuntime();
  rt.behave('web', { sickAfterMs: 100 });
  const { lines, logger } = keptLog();
  const a = fakeActivator(rt, { logger });
  try {
    // No readiness path: any answer is ready. The start timeout bounds the wait for the health checks: far past the test's own deadline.
    await a.reconcile([fakeSpec('web', { readiness: undefined, startTimeout: '60s', scale: { min: 2, max: 2 }, health: { path: '/healthz', interval: '30ms', timeout: '500ms', unhealthyThreshold: 2 } })]);
    await a.acquire('web');
    await eventually('two ready', () => a.status('web')?.readyInstances === 2, 10_000);
    // Restarted, it answers 503 for good: ready, never healthy.
    rt.behave('web', { neverReady: true });
    await eventually('one out for its health', () => lines.some((l) => l.msg === OUT), 10_000);
    const out = lines.find((l) => l.msg === OUT)!.instance;
    const restarted = (await rt.list({ app: 'web' })).find((i) => i.name === out)!.id;
    // Restarted in place (the same container): a few checks answered since say it waits to pass them.
    const since = rt.probesOf(restarted);
    await eventually('its health checks under way', () => rt.probesOf(restarted) >= since + 3, 10_000);
    // The other, still serving, exits and cannot be started again: none is left in rotation.
    rt.behave('web', { neverReady: true, startError: () => new Error('no space left on device') });
    const other = rt.running('web').find((i) => i.name !== out)!;
    await rt.outsideKill(other.id);
    // An app with no other instance in rotation takes it back once ready (README, "Replicas"): it serves something.
    await eventually('the restarted one back in rotation', () => (a.status('web')?.readyInstances ?? 0) >= 1 && lines.some((l) => l.msg === BACK && l.instance === out), 10_000);
  } finally {
    a.close();
    await rt.close();
  }
});
