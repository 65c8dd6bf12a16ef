import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AppView, StatusView } from '../../src/cli/api-types.js';
import { appSummary } from '../../src/cli/commands/get-summary.js';
import { paint } from '../../src/cli/colour.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');

function app(status: Partial<StatusView>): AppView {
  return {
    name: 'web',
    revision: 1,
    source: 'api',
    createdAt: '2026-01-01T10:00:00Z',
    updatedAt: '2026-01-01T10:00:00Z',
    state: status.state ?? 'stopped',
    status: { name: 'web', state: 'stopped', since: '2026-01-01T11:57:00Z', inFlight: 0, waiting: 0, ...status },
    routes: [],
    instances: [],
    spec: { image: 'web:1', port: 8080, env: {}, scale: { min: 0, max: 1 } },
  };
}

test('berth get: the state says why berth put the app there, when it did', () => {
  const p = paint(false);
  const cases: Array<[Partial<StatusView>, RegExp]> = [
    [{ state: 'stopped', reason: 'idle' }, /^State: +stopped since 3m ago \(idle\)$/m],
    [{ state: 'stopped', reason: 'stopped through the API' }, /^State: +stopped since 3m ago \(stopped through the API\)$/m],
    [{ state: 'paused', reason: 'idle' }, /^State: +paused since 3m ago \(idle\)$/m],
    // No reason: the app got there by itself (an exit), and lastError says why when it failed.
    [{ state: 'stopped' }, /^State: +stopped since 3m ago$/m],
  ];
  for (const [status, expected] of cases) assert.match(appSummary(app(status), p, NOW), expected, JSON.stringify(status));
});

test('berth get: replicas ready of desired, and the last error', () => {
  const text = appSummary(app({ state: 'running', replicas: 3, readyInstances: 2, lastError: 'the container exited with code 1' }), paint(false), NOW);
  assert.match(text, /^Replicas: +2 ready of 3$/m);
  assert.match(text, /^Last error: +the container exited with code 1$/m);
});
