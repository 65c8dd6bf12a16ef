/**
 * Readiness and health paths are sent as request targets, which Node refuses to
 * write when they hold characters past U+00FF (and HTTP when they hold any past
 * ASCII). `health: {path: "/€"}` was accepted, and the first health round threw
 * out of a timer: an unhandled rejection that ended the gateway.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { HealthChecker } from '../../src/activator/health-checker.js';
import { Slot } from '../../src/activator/instance-slot.js';
import { probeOnce } from '../../src/activator/readiness.js';
import { checkBerthApp } from '../../src/spec/berth-v1.js';
import { sleep } from '../support/fake-runtime.js';
import { waitFor } from '../support/wait-for.js';

const base = { apiVersion: 'berth/v1', name: 'web', image: 'berth-test/app:1', port: 8080 };

function issuesOf(extra: Record<string, unknown>): string[] {
  const checked = checkBerthApp({ ...base, ...extra });
  return checked.ok ? [] : checked.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('readiness and health paths in a spec', () => {
  const refused: Array<[string, string]> = [
    ['/€', '"/%E2%82%AC"'],
    ['/health/é', '"/health/%C3%A9"'],
    ['/\u200bhealthz', '"/%E2%80%8Bhealthz"'],
  ];
  for (const [path, encoded] of refused) {
    it(`refuses ${JSON.stringify(path)} and says how to write it`, () => {
      for (const field of ['readiness', 'health']) {
        const issues = issuesOf({ [field]: { path } });
        assert.equal(issues.length, 1, `${field}: ${issues.join('; ')}`);
        assert.match(issues[0]!, new RegExp(`^${field}\\.path: must hold only visible ASCII characters .*${encoded.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      }
    });
  }
  for (const path of ['/healthz', '/ready?full=1', '/%E2%82%AC', '/a/b-c_d~e']) {
    it(`accepts ${path}`, () => assert.deepEqual(issuesOf({ readiness: { path }, health: { path } }), []));
  }
  it('keeps the message for a relative path', () => {
    assert.deepEqual(issuesOf({ readiness: { path: 'healthz' } }), ['readiness.path: must start with "/" and contain no spaces']);
  });
});

describe('a probe whose path cannot be sent', () => {
  it('is a failed probe with the reason, not an exception', async () => {
    const result = await probeOnce({ host: '127.0.0.1', port: 9 }, { path: '/€' }, 200);
    assert.equal(result.ready, false);
    assert.match(result.reason ?? '', /unescaped characters/);
  });

  it('does not end the process from a health round (a spec stored before the check)', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => void rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    const checker = new HealthChecker({ logger: pino({ level: 'silent' }), onUnhealthy: () => undefined });
    try {
      const slot = new Slot(0, { id: 'c1', name: 'berth-web-0', app: 'web', index: 0, specHash: 'h', state: 'running', health: 'none', address: { host: '127.0.0.1', port: 9 } }, 'h');
      checker.start({ path: '/€', intervalMs: 20, timeoutMs: 50, unhealthyThreshold: 3, healthyThreshold: 1 }, () => [slot]);
      // Polled for the rounds (a fixed 200 ms may hold none on a loaded machine), then a few more rounds' time for a rejection to surface.
      await waitFor('the rounds to run and count failures', () => slot.healthFails > 0);
      await sleep(100);
      assert.deepEqual(rejections.map(String), []);
      assert.ok(slot.healthFails > 0, 'the rounds ran and counted failures');
    } finally {
      checker.stop();
      process.off('unhandledRejection', onRejection);
    }
  });
});
