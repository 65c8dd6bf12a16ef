/**
 * GET /v1/health's uptime was the wall clock's difference from the start: a clock
 * set back an hour (an NTP step) answered `uptimeS: -3599`, and the dashboard's
 * uptime with it. It is counted on the monotonic clock.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import type { ApiContext } from '../../src/api/route-def.js';
import { apiRoutes } from '../../src/api/routes/index.js';
import { Gateway } from '../../src/gateway/gateway.js';

const health = apiRoutes.find((r) => r.operationId === 'health')!;

test('the uptime stays the time the gateway has been up when the wall clock steps back', async () => {
  const realNow = Date.now;
  let stepMs = 0;
  Date.now = () => realNow() + stepMs;
  try {
    // Constructed only (a constructor does no I/O): no store, no engine, no listener.
    const gateway = new Gateway('/nonexistent/berth.yaml', { logger: pino({ level: 'silent' }), openStore: () => Promise.reject(new Error('unused')), runtime: () => { throw new Error('unused'); } });
    stepMs = -3_600_000;
    const answer = await health.handle({ gateway } as unknown as ApiContext);
    const uptimeS = (answer as { body: { uptimeS: number } }).body.uptimeS;
    assert.ok(uptimeS >= 0 && uptimeS < 600, `uptimeS ${uptimeS}`);
  } finally {
    Date.now = realNow;
  }
});
