// How `berth serve` answers signals. A second SIGTERM while draining got Node's default
// (death by signal, not a word), a SIGINT after a SIGTERM started a second drain; SIGUSR1
// opened Node's inspector on 127.0.0.1:9229 (code execution for any local user, in the
// process holding the Docker socket) and SIGUSR2 ended the gateway without a drain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { boundStartAfterStop, ignoreSignals, START_AFTER_STOP_MS, stopOnSignals, type Schedule } from '../../src/cli/stop-signals.js';
import { quietEngine } from '../support/quiet-engine.js';
import { waitFor } from '../support/wait-for.js';

const BERTH_BIN = fileURLToPath(new URL('../../../bin/berth.js', import.meta.url));

test('the first SIGTERM or SIGINT drains; a second of either kind exits at once, and never drains twice', () => {
  for (const [first, second] of [['SIGTERM', 'SIGTERM'], ['SIGTERM', 'SIGINT'], ['SIGINT', 'SIGTERM'], ['SIGINT', 'SIGINT']] as const) {
    const target = new EventEmitter();
    const seen: string[] = [];
    stopOnSignals(target, { drain: (s) => seen.push(`drain ${s}`), exitNow: (s) => seen.push(`exit ${s}`) });
    target.emit(first);
    target.emit(second);
    assert.deepEqual(seen, [`drain ${first}`, `exit ${second}`]);
  }
});

test('a real SIGUSR1 opens no inspector and a real SIGUSR2 does not end the process; each is told', () => {
  const module = fileURLToPath(new URL('../../src/cli/stop-signals.js', import.meta.url));
  const script =
    `const { ignoreSignals } = await import(${JSON.stringify(module)}); const inspector = await import('node:inspector');` +
    `ignoreSignals(process, (s) => console.log('told ' + s)); process.kill(process.pid, 'SIGUSR1'); process.kill(process.pid, 'SIGUSR2');` +
    `setTimeout(() => console.log(String(inspector.url()) + ' alive'), 300);`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(run.signal, null, run.stderr);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, 'told SIGUSR1\ntold SIGUSR2\nundefined alive\n');
  assert.doesNotMatch(run.stderr, /Debugger listening/);
});

test('berth serve: SIGUSR1, SIGUSR2 and SIGHUP leave it serving, no inspector; SIGTERM then drains and exits 0', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-signals-'));
  const engine = await quietEngine(dir);
  const child = spawn(process.execPath, [BERTH_BIN, 'serve', '--config', join(dir, 'berth.yaml'), '--no-watch'], {
    env: { ...process.env, BERTH_ADMIN_TOKEN: 'signals-test-token-0123', BERTH_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(async () => {
    child.kill('SIGKILL');
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  await writeFile(join(dir, 'berth.yaml'), `listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nstore: ./berth.db\ndocker: unix://${engine.socket}\napps: []\n`);
  const port = await waitFor('berth serve to listen', () => /admin API on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1], { timeoutMs: 30_000 });

  for (const signal of ['SIGUSR1', 'SIGUSR2', 'SIGHUP'] as const) child.kill(signal);
  await waitFor('the signals to be told', () => /SIGUSR2 ignored/.test(output) && /SIGUSR1 ignored/.test(output) && /configuration reloaded/.test(output), { timeoutMs: 10_000 });
  const health = await fetch(`http://127.0.0.1:${port}/v1/health`, { headers: { authorization: 'Bearer signals-test-token-0123' }, signal: AbortSignal.timeout(10_000) });
  assert.equal(health.status, 200);
  assert.equal(child.exitCode, null, output);
  assert.doesNotMatch(output, /Debugger listening|Starting inspector/);

  child.kill('SIGTERM');
  assert.deepEqual(await exited, { code: 0, signal: null }, output);
});

test('berth serve: a SIGTERM during the start (the engine not yet answering) is told, the start finishes, then it drains and exits 0', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-signals-start-'));
  // The engine holds its ping until released: the gateway is mid-start (store open and locked) when the signal comes.
  const heldPings: Array<() => void> = [];
  let released = false;
  const engine = await quietEngine(dir, (answer) => (released ? answer() : heldPings.push(answer)));
  await writeFile(join(dir, 'berth.yaml'), `listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nstore: ./berth.db\ndocker: unix://${engine.socket}\napps: []\n`);
  const child = spawn(process.execPath, [BERTH_BIN, 'serve', '--config', join(dir, 'berth.yaml'), '--no-watch'], {
    env: { ...process.env, BERTH_ADMIN_TOKEN: 'signals-test-token-0123', BERTH_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(async () => {
    child.kill('SIGKILL');
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  await waitFor('the start to reach the engine', () => heldPings.length > 0, { timeoutMs: 30_000 });

  child.kill('SIGTERM');
  await waitFor('the signal to be told', () => /SIGTERM during the start/.test(output), { timeoutMs: 10_000 });
  assert.equal(child.exitCode, null, output);
  released = true;
  for (const answer of heldPings.splice(0)) answer();
  assert.deepEqual(await exited, { code: 0, signal: null }, output);
  assert.match(output, /gateway listening[\s\S]*draining requests in flight/);
});

// A SIGTERM during the start waited for the start to end, however long its engine and store calls took
// one after another: no bound. Now the start has START_AFTER_STOP_MS after the signal; settled, the drain's
// own deadline takes over.
test('boundStartAfterStop: overdue once the bound passes unless the start settled first', () => {
  const pending = new Map<number, () => void>();
  let next = 0;
  const asked: number[] = [];
  const schedule: Schedule = (ms, run) => {
    const id = next++;
    asked.push(ms);
    pending.set(id, run);
    return () => pending.delete(id);
  };
  const fire = () => {
    for (const [id, run] of [...pending]) {
      pending.delete(id);
      run();
    }
  };
  const overdue: number[] = [];
  boundStartAfterStop((ms) => overdue.push(ms), undefined, schedule);
  assert.deepEqual(asked, [START_AFTER_STOP_MS]);
  fire();
  assert.deepEqual(overdue, [START_AFTER_STOP_MS], 'a start still going at the bound ends the process');
  const settled = boundStartAfterStop((ms) => overdue.push(ms), 1_000, schedule);
  settled.settled();
  settled.settled();
  fire();
  assert.deepEqual(overdue, [START_AFTER_STOP_MS], 'a start that settled in time is left to the drain');
});
