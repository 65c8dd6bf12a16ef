// A start that fails because the container died quotes what it said last: an app's
// output is hostile input there too (escapes, floods, a line without end).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import type { BerthError } from '../../src/errors.js';
import { lastOutput, lastOutputNote } from '../../src/runtime/last-output.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { fakeActivator, fakeSpec } from '../support/fake-activator.js';

test('lastOutputNote: the last three non-blank lines on one line, escapes and control characters gone, long lines cut', () => {
  assert.equal(lastOutputNote(''), undefined);
  assert.equal(lastOutputNote('\n\r\n  \n'), undefined);
  assert.equal(lastOutputNote('one\ntwo\n\nthree\nfour\n\n'), 'its last output: two | three | four');
  assert.equal(lastOutputNote('\x1b[31mError:\x1b[0m bad\x1b[2J\x1b]0;title\x07 config\u0007\u202e!\n'), 'its last output: Error: bad config !');
  const note = lastOutputNote(`${'x'.repeat(10_000)}\n`)!;
  assert.equal(note, `its last output: ${'x'.repeat(200)}…`);
});

test('lastOutput: a flood of output without a newline is read to its end with bounded memory and quoted short', async () => {
  const chunk = 'y'.repeat(64 * 1024);
  let chunks = 0;
  const note = await lastOutput(async () =>
    Readable.from(
      (function* () {
        for (; chunks < 800; chunks++) yield chunk; // 50 MB
        yield 'z\nFATAL: the end\n';
      })(),
    ),
  );
  assert.equal(chunks, 800);
  assert.equal(note, `its last output: ${'y'.repeat(200)}… | FATAL: the end`);
});

test('lastOutput: output that never ends is given up after its bound, with no quote', async () => {
  const began = performance.now();
  const note = await lastOutput(async ({ signal }) => {
    const stream = new Readable({ read() {} });
    stream.push('still going\n');
    signal.addEventListener('abort', () => stream.push(null));
    return stream;
  });
  assert.equal(note, 'its last output: still going');
  assert.ok(performance.now() - began < 15_000);
});

test('a container that dies while it starts: the failure quotes its last output', async () => {
  const rt = new FakeRuntime();
  rt.behave('web', { neverReady: true, exitAfterMs: 50, exitCode: 1, output: 'listening soon\nError: DATABASE_URL is not set\n    at main (/app/index.js:3)\n' });
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web', { startTimeout: '10s' })]);
    // The app's clients hear that it failed and how, never what it wrote (it may hold a secret).
    await assert.rejects(a.acquire('web'), (e: BerthError) => e.code === 'start_failed' && /exited with code 1$/.test(e.message));
    assert.match(a.status('web')?.lastError ?? '', /exited with code 1$/);
    assert.equal(a.status('web')?.lastOutput, 'its last output: listening soon | Error: DATABASE_URL is not set | at main (/app/index.js:3)');
    assert.equal(a.publicStatus('web')?.error?.includes('DATABASE_URL'), false);
    // A start that succeeds clears it with lastError.
    rt.behave('web', {});
    await a.acquire('web');
    assert.equal(a.status('web')?.lastOutput, undefined);
  } finally {
    a.close();
    await rt.close();
  }
});
