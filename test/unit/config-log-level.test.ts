import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { buildConfig } from '../../src/config/load-config.js';

test('logLevel is optional and takes pino levels only', async () => {
  assert.equal((await buildConfig({}, tmpdir())).logLevel, undefined);
  assert.equal((await buildConfig({ logLevel: 'debug' }, tmpdir())).logLevel, 'debug');
  await assert.rejects(buildConfig({ logLevel: 'verbose' }, tmpdir()), /logLevel/);
});
