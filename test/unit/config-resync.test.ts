import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { buildConfig } from '../../src/config/load-config.js';

test('resync: every 10 s by default, a duration or seconds otherwise, never 0', async () => {
  assert.equal((await buildConfig({}, tmpdir())).resyncMs, 10_000);
  assert.equal((await buildConfig({ resync: '500ms' }, tmpdir())).resyncMs, 500);
  assert.equal((await buildConfig({ resync: 30 }, tmpdir())).resyncMs, 30_000);
  await assert.rejects(buildConfig({ resync: 0 }, tmpdir()), /resync: must be longer than 0/);
  await assert.rejects(buildConfig({ resync: 'often' }, tmpdir()), /resync/);
});
