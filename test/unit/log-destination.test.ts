// The log goes to stdout, often redirected to a file. A write that failed (that file's disk
// full: ENOSPC; an I/O error) was re-emitted by pino as an 'error' nobody listened to: the
// gateway ended with an uncaught exception, and then pino's exit hook tried the flush again
// every 100 ms for as long as the write kept failing, the process neither serving nor exiting.
// A descriptor opened read-only stands for such a stdout: every write to it fails (EBADF).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs, { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino, type Logger } from 'pino';
import { logDestination } from '../../src/log-destination.js';

const LOG_MODULE = new URL('../../src/log.js', import.meta.url).href;

/** A descriptor every write to fails, and its cleanup. */
function unwritable(): { fd: number; close: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'berth-log-'));
  const file = join(dir, 'log');
  writeFileSync(file, '');
  const fd = openSync(file, 'r');
  return {
    fd,
    close: () => {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('a gateway whose stdout cannot be written logs on (lines dropped) and exits when asked, not an uncaught exception or a hang', async (t) => {
  const out = unwritable();
  t.after(out.close);
  // What serve and the proxy workers do: createLogger, lines logged now and later, then an exit (a drain's end).
  const script = `
    const { createLogger } = await import(${JSON.stringify(LOG_MODULE)});
    const logger = createLogger('info');
    logger.info('first');
    setTimeout(() => {
      for (let i = 0; i < 100; i++) logger.warn({ i }, 'later');
      process.stderr.write('ALIVE\\n');
      setTimeout(() => process.exit(0), 50);
    }, 100);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', out.fd, 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c));
  });
  clearTimeout(timer);
  assert.match(stderr, /ALIVE/, `it went on logging after the first failed write: ${stderr}`);
  assert.equal(code, 0, `it exits as asked (not killed after hanging in the exit flush): ${stderr}`);
  assert.doesNotMatch(stderr, /EBADF|Error/);
});

test('logDestination: a failed write drops lines for a while and is retried, never an error event that escapes', async (t) => {
  const out = unwritable();
  t.after(out.close);
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);
  process.on('uncaughtException', onUncaught);
  t.after(() => process.off('uncaughtException', onUncaught));
  const resumed: Array<[number, string]> = [];
  const destination = logDestination(out.fd, (dropped, cause) => resumed.push([dropped, cause]), 30);
  const logger = pino({ level: 'info' }, destination);
  logger.info('first');
  await new Promise((r) => setTimeout(r, 50));
  for (let i = 0; i < 10; i++) logger.info({ i }, 'dropped');
  // Past the retry: writing is tried again (and fails again, still without an escape).
  await new Promise((r) => setTimeout(r, 80));
  logger.info('tried again');
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(uncaught, []);
  // Nothing went through, so nothing is told as resumed; the exit flush is skipped, not retried for ever.
  assert.deepEqual(resumed, []);
  (destination as unknown as { flushSync(): void }).flushSync();
});

test('logDestination: once the disk has room again, writing resumes and the lines lost are told', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-log-'));
  const file = join(dir, 'log');
  const fd = openSync(file, 'w');
  // The disk full for a while: the writes fail with ENOSPC, then go through again.
  const realWrite = fs.write;
  let full = true;
  (fs as { write: unknown }).write = (...args: unknown[]) => {
    if (!full) return (realWrite as (...a: unknown[]) => void)(...args);
    const callback = args[args.length - 1] as (err: NodeJS.ErrnoException) => void;
    process.nextTick(callback, Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
  };
  t.after(() => {
    (fs as { write: unknown }).write = realWrite;
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  });
  const resumed: Array<[number, string]> = [];
  let logger!: Logger;
  const destination = logDestination(fd, (dropped, cause) => {
    resumed.push([dropped, cause]);
    logger.warn({ dropped, err: cause }, 'the log could not be written; lines were dropped meanwhile');
  }, 30);
  logger = pino({ level: 'info', base: undefined, timestamp: false }, destination);
  logger.info('lost or late');
  await new Promise((r) => setTimeout(r, 10));
  for (let i = 0; i < 5; i++) logger.info({ i }, 'dropped');
  full = false;
  await new Promise((r) => setTimeout(r, 60));
  logger.info('after');
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(resumed, [[5, 'ENOSPC']]);
  const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { msg: string });
  assert.deepEqual(lines.map((l) => l.msg), ['lost or late', 'after', 'the log could not be written; lines were dropped meanwhile']);
});
