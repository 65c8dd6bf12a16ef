// `berth serve` whose stderr cannot be written: a supervisor that closed the pipe it gave, a log
// reader that left. The start banner (stderr) was an unhandled 'error' event (EPIPE) that ended
// the gateway a moment after it started listening, and every app behind it with it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { quietEngine } from '../support/quiet-engine.js';
import { waitFor } from '../support/wait-for.js';

const BERTH_BIN = fileURLToPath(new URL('../../../bin/berth.js', import.meta.url));
const TOKEN = 'stderr-gone-test-token-0123';

test('berth serve keeps serving when its stderr is a closed pipe, and still drains and exits 0 on SIGTERM', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-stderr-gone-'));
  const engine = await quietEngine(dir);
  await writeFile(join(dir, 'berth.yaml'), `listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nstore: ./berth.db\ndocker: unix://${engine.socket}\napps: []\n`);
  const child = spawn(process.execPath, [BERTH_BIN, 'serve', '--config', join(dir, 'berth.yaml'), '--no-watch'], {
    env: { ...process.env, BERTH_ADMIN_TOKEN: TOKEN, BERTH_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(async () => {
    child.kill('SIGKILL');
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  });
  child.stderr.destroy(); // the reader leaves before a word is written
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const admin = await waitFor('berth serve to listen', () => /"admin":"127\.0\.0\.1:(\d+)"/.exec(output)?.[1], { timeoutMs: 30_000 });
  const health = async () => (await fetch(`http://127.0.0.1:${admin}/v1/health`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: AbortSignal.timeout(10_000) })).status;
  assert.equal(await health(), 200);
  await sleep(300); // the banner is written once every listener is up
  assert.equal(child.exitCode, null, output);
  assert.equal(await health(), 200);

  child.kill('SIGTERM');
  assert.deepEqual(await exited, { code: 0, signal: null }, output);
});
