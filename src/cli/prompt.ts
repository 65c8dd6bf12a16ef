import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';

/**
 * The terminal, with a switch to stop echoing: readline echoes what is typed
 * through its output stream, so a secret is hidden by muting that stream once
 * the question has been written.
 */
class MutableOutput extends Writable {
  muted = false;
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    if (!this.muted) process.stderr.write(chunk);
    done();
  }
}

/** Asks one question on the terminal; an empty answer takes `fallback`. Secrets are not echoed. */
export async function ask(question: string, options: { fallback?: string; secret?: boolean; shownFallback?: string } = {}): Promise<string> {
  const output = new MutableOutput();
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  const shown = options.shownFallback ?? options.fallback;
  try {
    const answering = rl.question(`${question}${shown ? ` [${shown}]` : ''}: `);
    output.muted = Boolean(options.secret);
    const answer = (await answering).trim();
    if (options.secret) process.stderr.write('\n');
    return answer === '' ? (options.fallback ?? '') : answer;
  } finally {
    rl.close();
  }
}
