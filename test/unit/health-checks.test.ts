/**
 * Active health checks against a health endpoint that misbehaves (hangs, fails), on a
 * local server at 127.0.0.1: each instance has one check under way at most, however
 * long the endpoint takes, and its failure says what the check saw.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import pino from 'pino';
import { awaitHealthy, HealthChecker, healthStep, healthyStatus, type HealthCount } from '../../src/activator/health-checker.js';
import { Slot } from '../../src/activator/instance-slot.js';
import { waitFor } from '../support/wait-for.js';

/** A local app whose health endpoint `answer` serves; counts the checks open at once. */
async function healthApp(answer: (req: IncomingMessage, res: ServerResponse) => void, id = 'c1') {
  let open = 0;
  let most = 0;
  let seen = 0;
  const server = createServer((req, res) => {
    seen++;
    open++;
    most = Math.max(most, open);
    res.on('close', () => open--);
    answer(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const slot = new Slot(0, { id, name: `berth-web-${id}`, app: 'web', index: 0, specHash: 'h', state: 'running', health: 'none', address: { host: '127.0.0.1', port } }, 'h');
  return {
    slot,
    counts: () => ({ seen, open, most }),
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

test('a health endpoint that hangs longer than the interval gets one check at a time, not one per round', async () => {
  // Never answers: each check lasts its whole timeout, fifteen intervals.
  const app = await healthApp(() => undefined);
  const unhealthy: Slot[] = [];
  const checker = new HealthChecker({ logger: pino({ level: 'silent' }), onUnhealthy: (s) => {
      // As the controller does: out of rotation, no more checks.
      s.unhealthy = true;
      unhealthy.push(s);
    },
  });
  try {
    checker.start({ path: '/healthz', intervalMs: 20, timeoutMs: 300, unhealthyThreshold: 2, healthyThreshold: 1 }, () => [app.slot]);
    // Two checks timed out one after the other (the second began after the first ended).
    await waitFor('two checks to time out', () => app.slot.healthFails >= 2, { timeoutMs: 15_000 });
    const { seen, most } = app.counts();
    assert.equal(most, 1, `checks open at once: ${most}`);
    assert.equal(seen, 2, `checks sent: ${seen}`);
    assert.equal(unhealthy.length, 1, 'reported once, at the threshold');
  } finally {
    checker.stop();
    await app.close();
  }
});

for (const [what, answer, reason] of [
  ['answers 503', (_req: IncomingMessage, res: ServerResponse) => void res.writeHead(503).end(), 'health check /healthz answered 503'],
  ['never answers', () => undefined, 'health check /healthz: no answer within 300 ms'],
] as const) {
  test(`an instance whose health endpoint ${what} is reported with what its check saw, named a health check`, async () => {
    const app = await healthApp(answer);
    const reasons: string[] = [];
    const checker = new HealthChecker({
      logger: pino({ level: 'silent' }),
      onUnhealthy: (s, why) => {
        s.unhealthy = true;
        reasons.push(why);
      },
    });
    try {
      checker.start({ path: '/healthz', intervalMs: 20, timeoutMs: 300, unhealthyThreshold: 1, healthyThreshold: 1 }, () => [app.slot]);
      await waitFor('the instance reported', () => reasons.length > 0, { timeoutMs: 10_000 });
      assert.deepEqual(reasons, [reason]);
    } finally {
      checker.stop();
      await app.close();
    }
  });
}

test('healthStep counts both thresholds in a row, as Envoy does', () => {
  const spec = { unhealthyThreshold: 3, healthyThreshold: 2 };
  // [checks so far, then this one, ejected?, expected run and verdict]
  const table: [string, HealthCount, boolean, boolean, ReturnType<typeof healthStep>][] = [
    ['a first failure', { fails: 0, oks: 0 }, false, false, { fails: 1, oks: 0 }],
    ['the third failure in a row ejects', { fails: 2, oks: 0 }, false, false, { fails: 3, oks: 0, verdict: 'eject' }],
    ['a success ends a run of failures, whatever healthyThreshold', { fails: 2, oks: 0 }, true, false, { fails: 0, oks: 1 }],
    ['a failure after a success starts over', { fails: 0, oks: 1 }, false, false, { fails: 1, oks: 0 }],
    ['successes in rotation decide nothing', { fails: 0, oks: 5 }, true, false, { fails: 0, oks: 6 }],
    ['an ejected instance: one success is not enough', { fails: 4, oks: 0 }, true, true, { fails: 0, oks: 1 }],
    ['an ejected instance rejoins at healthyThreshold in a row', { fails: 0, oks: 1 }, true, true, { fails: 0, oks: 2, verdict: 'rejoin' }],
    ['an ejected instance failing again is not ejected twice', { fails: 7, oks: 0 }, false, true, { fails: 8, oks: 0 }],
  ];
  for (const [what, count, ok, ejected, want] of table) assert.deepEqual(healthStep(count, ok, ejected, spec), want, what);
  // A flapping instance (fail, ok, fail, ok, fail) is never ejected.
  let run: HealthCount = { fails: 0, oks: 0 };
  for (const ok of [false, true, false, true, false, true, false]) {
    const step = healthStep(run, ok, false, spec);
    assert.equal(step.verdict, undefined);
    run = step;
  }
});

test('healthyStatus: 2xx and 3xx, as Kubernetes and Traefik count', () => {
  for (const [status, want] of [[200, true], [204, true], [302, true], [399, true], [404, false], [401, false], [199, false], [101, false], [500, false], [503, false]] as const) {
    assert.equal(healthyStatus(status), want, String(status));
  }
});

test('an instance whose health endpoint flaps is not ejected with healthyThreshold 2: its failures were never consecutive', async () => {
  let n = 0;
  const app = await healthApp((_req, res) => void res.writeHead(n++ % 2 === 0 ? 503 : 200).end());
  const reasons: string[] = [];
  const checker = new HealthChecker({ logger: pino({ level: 'silent' }), onUnhealthy: (s, why) => {
      s.unhealthy = true;
      reasons.push(why);
    },
  });
  try {
    checker.start({ path: '/healthz', intervalMs: 10, timeoutMs: 2_000, unhealthyThreshold: 3, healthyThreshold: 2 }, () => [app.slot]);
    // Nine checks: five failures, none two in a row.
    await waitFor('nine checks', () => app.counts().seen >= 9 && !app.slot.healthChecking, { timeoutMs: 15_000 });
    assert.deepEqual(reasons, []);
    assert.ok(app.slot.healthFails <= 1, `failures in a row: ${app.slot.healthFails}`);
  } finally {
    checker.stop();
    await app.close();
  }
});

test('a health path answering 404 (mistyped) fails its checks, and the reason says so', async () => {
  const app = await healthApp((req, res) => void res.writeHead(req.url === '/healthz' ? 200 : 404).end());
  const reasons: string[] = [];
  const checker = new HealthChecker({ logger: pino({ level: 'silent' }), onUnhealthy: (s, why) => {
      s.unhealthy = true;
      reasons.push(why);
    },
  });
  try {
    checker.start({ path: '/healtz', intervalMs: 10, timeoutMs: 2_000, unhealthyThreshold: 2, healthyThreshold: 1 }, () => [app.slot]);
    await waitFor('the instance reported', () => reasons.length > 0, { timeoutMs: 10_000 });
    assert.deepEqual(reasons, ['health check /healtz answered 404']);
  } finally {
    checker.stop();
    await app.close();
  }
});

test('when every instance fails at once, they are taken out one at a time: the others keep serving', async () => {
  const apps = await Promise.all(['c1', 'c2', 'c3'].map((id) => healthApp((_req, res) => void res.writeHead(503).end(), id)));
  const slots = apps.map((a) => a.slot);
  const reported: Slot[] = [];
  const checker = new HealthChecker({ logger: pino({ level: 'silent' }), onUnhealthy: (s) => {
      s.unhealthy = true;
      reported.push(s);
    },
  });
  try {
    checker.start({ path: '/healthz', intervalMs: 10, timeoutMs: 2_000, unhealthyThreshold: 2, healthyThreshold: 1 }, () => slots);
    await waitFor('one taken out', () => reported.length > 0, { timeoutMs: 10_000 });
    // The others cross their threshold many times over meanwhile and stay in rotation.
    await waitFor('the others past their threshold', () => slots.every((s) => s.unhealthy || s.healthFails >= 6), { timeoutMs: 10_000 });
    assert.equal(reported.length, 1);
    assert.equal(slots.filter((s) => s.available).length, 2);
    // The first is back (restarted and passing again): the next one goes.
    reported[0]!.unhealthy = false;
    reported[0]!.healthFails = 0;
    await waitFor('a second taken out', () => reported.length >= 2, { timeoutMs: 10_000 });
    assert.equal(slots.filter((s) => s.unhealthy).length, 1);
  } finally {
    checker.stop();
    await Promise.all(apps.map((a) => a.close()));
  }
});

test('awaitHealthy lets an ejected instance back only after healthyThreshold checks in a row', async () => {
  const answers = [200, 503, 200, 200, 404, 200, 200, 200];
  let n = 0;
  const app = await healthApp((_req, res) => void res.writeHead(answers[n++] ?? 200).end());
  try {
    const spec = { path: '/healthz', intervalMs: 5, timeoutMs: 2_000, unhealthyThreshold: 3, healthyThreshold: 3 };
    const passed = await awaitHealthy(app.slot.upstream, spec, performance.now() + 30_000);
    assert.deepEqual(passed, { ok: true });
    assert.equal(app.counts().seen, 8, 'back at the third success in a row');
    // Failing still when its time is up: not back, and why.
    n = 1;
    answers.fill(503);
    const failed = await awaitHealthy(app.slot.upstream, spec, performance.now() + 50);
    assert.equal(failed.ok, false);
    assert.equal(failed.reason, 'health check /healthz answered 503');
  } finally {
    await app.close();
  }
});
