import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const BERTH_BIN = fileURLToPath(new URL('../../../bin/berth.js', import.meta.url));

test('berth serve refuses a BERTH_ADMIN_TOKEN that no client could ever send (it served, and every call got 401)', () => {
  const run = spawnSync(process.execPath, [BERTH_BIN, 'serve', '--config', '/nonexistent/berth.yaml'], {
    env: { ...process.env, BERTH_ADMIN_TOKEN: 'my secret token' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, /^berth: BERTH_ADMIN_TOKEN has a space at position 3; a berth token is printable ASCII only\n$/);
});

test('berth serve refuses a BERTH_GATEWAY_ID that is no gateway id (it was dropped without a word for the host-name default)', () => {
  const run = spawnSync(process.execPath, [BERTH_BIN, 'serve', '--config', '/nonexistent/berth.yaml'], {
    env: { ...process.env, BERTH_GATEWAY_ID: 'bad id!' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, /^berth: BERTH_GATEWAY_ID is not a gateway id: letters, digits, dot, dash or underscore, at most 63, starting with a letter or digit\n$/);
});
