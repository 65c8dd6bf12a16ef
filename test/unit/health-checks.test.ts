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
import { HealthChecker } from '../../src/activator/health-checker.js';
import { Slot } from '../../src/activator/instance-slot.js';
import { waitFor } from '../support/wait-for.js';

/** A local app whose health endpoint `answer` serves; counts the checks open at once. */
async function healthApp(answer: (req: IncomingMessage, res: ServerResponse) => void) {
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
  const slot = new Slot(0, { id: 'c1', name: 'berth-web-0', app: 'web', index: 0, specHash: 'h', state: 'running', health: 'none', address: { host: '127.0.0.1', port } }, 'h');
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
