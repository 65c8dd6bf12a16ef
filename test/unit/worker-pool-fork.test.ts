// A replacement worker that cannot be forked (real forks of worker-main.js on the fake engine; no Docker).
// Node's spawn reports EMFILE, ENFILE, EAGAIN and ENOENT alike: an 'error' with no pid and no
// 'exit' ever. A missing cwd makes the fork fail that way on demand, without running this
// process out of descriptors. A file of its own: its waits (~5 s) run beside the other pool files.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import cluster from 'node:cluster';
import pino from 'pino';
import { eventually } from '../support/fake-activator.js';
import { closeMadeActivators, pool } from '../support/worker-pool-harness.js';

after(closeMadeActivators);

test('a replacement whose fork fails (out of descriptors) is tried again, not left out for good', { timeout: 60_000 }, async (t) => {
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(String(JSON.parse(line).msg)) });
  const workers = await pool(1, undefined, undefined, logger);
  t.after(async () => {
    cluster.setupPrimary({ cwd: undefined });
    await workers.close(1_000);
  });
  await workers.listen('127.0.0.1', 0);
  const [first] = workers.pids;
  assert.ok(first);
  cluster.setupPrimary({ cwd: '/nonexistent-berth-fork-test' });
  process.kill(first, 'SIGKILL');
  // Before, the failed fork was logged at debug as a channel error and the slot was never forked again.
  await eventually('the failed fork reported', () => lines.includes('a proxy worker could not be started; trying again'), 15_000);
  assert.deepEqual(workers.pids, [], 'no worker meanwhile');
  cluster.setupPrimary({ cwd: undefined });
  await eventually('a replacement forked once forks work again', () => workers.pids.length === 1 && workers.pids[0] !== first, 30_000);
});
