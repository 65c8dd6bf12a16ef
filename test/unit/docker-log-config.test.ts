import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerCreateOptions } from '../../src/runtime/docker/container-config.js';
import { boundedLogConfig, JSON_FILE_BOUNDS } from '../../src/runtime/docker/log-config.js';
import { appSpec } from '../support/spec-fixture.js';

test('log bounds: an engine logging to json-file (its default, which keeps everything) gets a bounded json-file log per container', () => {
  const cases: Array<[string | undefined, unknown]> = [
    ['json-file', { Type: 'json-file', Config: JSON_FILE_BOUNDS }],
    // Another driver is the operator's choice, with its own bounds (local rotates; journald, syslog… ship elsewhere).
    ['local', undefined],
    ['journald', undefined],
    ['none', undefined],
    [undefined, undefined],
  ];
  for (const [driver, expected] of cases) assert.deepEqual(boundedLogConfig(driver), expected, String(driver));
  assert.deepEqual(JSON_FILE_BOUNDS, { 'max-size': '20m', 'max-file': '5' });
});

test('log bounds: the container is created with the log config given, and none otherwise', () => {
  const app = appSpec('web');
  const bounded = boundedLogConfig('json-file');
  assert.deepEqual(containerCreateOptions(app, 0, { logConfig: bounded }).HostConfig?.LogConfig, bounded);
  assert.equal(containerCreateOptions(app, 0).HostConfig?.LogConfig, undefined);
});
