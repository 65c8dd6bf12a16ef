// SIGHUP during the start must not end the process (Node's default for an unhandled
// SIGHUP) nor be lost: it reloads once the gateway has started.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { reloadOnSignal } from '../../src/cli/reload-signal.js';

test('a SIGHUP before the start is kept for after it; later ones reload each', () => {
  const target = new EventEmitter();
  let reloads = 0;
  const signals = reloadOnSignal(target, async () => void reloads++);
  target.emit('SIGHUP');
  target.emit('SIGHUP');
  assert.equal(reloads, 0);
  signals.started();
  assert.equal(reloads, 1);
  target.emit('SIGHUP');
  assert.equal(reloads, 2);
});

test('a real SIGHUP to a process that listens this way does not end it', () => {
  const module = fileURLToPath(new URL('../../src/cli/reload-signal.js', import.meta.url));
  const script = `const { reloadOnSignal } = await import(${JSON.stringify(module)}); reloadOnSignal(process, async () => console.log('reloaded')).started(); process.kill(process.pid, 'SIGHUP'); setTimeout(() => console.log('alive'), 200);`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(run.signal, null);
  assert.equal(run.status, 0);
  assert.equal(run.stdout, 'reloaded\nalive\n');
});
