// `berth configure`'s questions on a terminal. Ctrl-C there (raw mode: a key, not a signal)
// came out as the error line "berth: Aborted with Ctrl+C", after the question, exit 1;
// Ctrl-D as "Aborted with Ctrl+D". Now Ctrl-C ends the line and the command with 130
// (main.ts), and Ctrl-D is a usage error saying there was no answer.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { exitCodeOf } from '../../src/errors.js';
import { ask, PromptInterrupted } from '../../src/cli/prompt.js';

function terminal(): { input: PassThrough; output: PassThrough; shown: () => string } {
  const input = new PassThrough();
  const output = new PassThrough();
  let shown = '';
  output.setEncoding('utf8').on('data', (d: string) => (shown += d));
  return { input, output, shown: () => shown };
}

test('ask: an answer is taken, a secret is not echoed', async () => {
  const t = terminal();
  const answer = ask('API token', { secret: true }, t);
  t.input.write('berth_s3cret\r');
  assert.equal(await answer, 'berth_s3cret');
  assert.doesNotMatch(t.shown(), /s3cret/);
  assert.match(t.shown(), /API token: (\x1b\[\d+G)?\n$/);
});

test('ask: Ctrl-C is PromptInterrupted (exit 130 in main.ts), the question\'s line ended', async () => {
  const t = terminal();
  const answer = ask('API token', { secret: true }, t);
  t.input.write('half\x03');
  await assert.rejects(answer, PromptInterrupted);
  assert.match(t.shown(), /API token: (\x1b\[\d+G)?\n$/);
});

test('ask: Ctrl-D (the input ended) is a usage error saying so, on a line of its own', async () => {
  const t = terminal();
  const answer = ask('berth admin API URL', { fallback: 'http://127.0.0.1:8081' }, t);
  t.input.write('\x04');
  const err = await answer.then(() => undefined, (e: unknown) => e);
  assert.equal((err as Error).message, 'berth admin API URL: no answer (the input ended)');
  assert.equal(exitCodeOf(err), 2);
  assert.match(t.shown(), /\]: (\x1b\[\d+G)?\n$/);
});
