import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AppView, StatusView } from '../../src/cli/api-types.js';
import { appSummary } from '../../src/cli/commands/get-summary.js';
import { instanceCount } from '../../src/cli/app-display.js';
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

// `berth ls` and `berth get` said 1/3 for an app that runs the one instance it was asked
// for (scale.max 3): out of the most it may have, not out of those it should have.
test('berth get and ls: instances running out of those desired, not out of scale.max', () => {
  const view = (status: Partial<StatusView>, running: number): AppView => {
    const base = app(status);
    base.spec.scale = { min: 0, max: 3, replicas: 1 };
    base.instances = Array.from({ length: running }, (_, i) => ({ id: `c${i}`, name: `berth-web-${i}`, state: 'running' }) as AppView['instances'][number]);
    return base;
  };
  assert.equal(instanceCount(view({ state: 'running', replicas: 1, readyInstances: 1 }, 1)), '1/1');
  assert.equal(instanceCount(view({ state: 'running', replicas: 2, readyInstances: 1 }, 1)), '1/2', 'scaled to 2, one running yet');
  assert.equal(instanceCount(view({ state: 'stopped' }, 0)), '0/1', 'without a status count: the spec\'s replicas');
  assert.match(appSummary(view({ state: 'running', replicas: 2, readyInstances: 2 }, 2), paint(false), NOW), /^Instances: +2\/2 running$/m);
});

// `berth get` said "Idle timeout: the gateway's default" without the value: a user had to read
// the gateway's config to learn when the app stops. The status carries the timeout in force.
test('berth get: the idle timeout in force, and whence it comes', () => {
  const p = paint(false);
  const withSpec = (idleTimeoutMs: number | undefined, min: number, status: Partial<StatusView>): AppView => {
    const view = app(status);
    view.spec.scale = { min, max: 1 };
    if (idleTimeoutMs !== undefined) view.spec.idleTimeoutMs = idleTimeoutMs;
    return view;
  };
  const cases: Array<[AppView, RegExp]> = [
    [withSpec(undefined, 0, { idleTimeoutMs: 300_000 }), /^Idle timeout: +5m \(the gateway's default\)$/m],
    [withSpec(120_000, 0, { idleTimeoutMs: 120_000 }), /^Idle timeout: +2m$/m],
    [withSpec(undefined, 1, {}), /^Idle timeout: +never \(scale\.min is at least 1\)$/m],
    // An older gateway that does not send it: still says whence, without a value.
    [withSpec(undefined, 0, {}), /^Idle timeout: +the gateway's default$/m],
  ];
  for (const [view, expected] of cases) assert.match(appSummary(view, p, NOW), expected, JSON.stringify(view.spec));
});
