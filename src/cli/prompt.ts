import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { BadRequestError } from '../errors.js';

/**
 * The terminal, with a switch to stop echoing: readline echoes what is typed
 * through its output stream, so a secret is hidden by muting that stream once
 * the question has been written.
 */
class MutableOutput extends Writable {
  muted = false;
  constructor(private readonly target: NodeJS.WritableStream) {
    super();
  }
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    if (!this.muted) this.target.write(chunk);
    done();
  }
}

/**
 * Ctrl-C at a question. The terminal is in raw mode there, so the key reaches readline, not
 * the process as a signal; the command ends as Ctrl-C ends any other (exit 130, see main.ts).
 */
export class PromptInterrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

/** Where a question is asked: the terminal, or a test's streams. */
export interface PromptTerminal {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
}

/** Asks one question on the terminal; an empty answer takes `fallback`. Secrets are not echoed. */
export async function ask(
  question: string,
  options: { fallback?: string; secret?: boolean; shownFallback?: string } = {},
  terminal: PromptTerminal = { input: process.stdin, output: process.stderr },
): Promise<string> {
  const output = new MutableOutput(terminal.output);
  const rl = createInterface({ input: terminal.input, output, terminal: true });
  const shown = options.shownFallback ?? options.fallback;
  const abort = new AbortController();
  // Without a listener, readline rejected the question with "Aborted with Ctrl+C": printed after the
  // question as berth's error line, exit 1.
  let interrupted = false;
  rl.on('SIGINT', () => {
    interrupted = true;
    abort.abort();
  });
  try {
    const answering = rl.question(`${question}${shown ? ` [${shown}]` : ''}: `, { signal: abort.signal });
    output.muted = Boolean(options.secret);
    const answer = (await answering).trim();
    if (options.secret) terminal.output.write('\n');
    return answer === '' ? (options.fallback ?? '') : answer;
  } catch (err) {
    // The error line (or the shell's prompt) starts on a line of its own, not after the question.
    terminal.output.write('\n');
    if (interrupted) throw new PromptInterrupted();
    // Ctrl-D, or the end of what was piped in: no answer, said as such.
    if ((err as { code?: string }).code === 'ABORT_ERR') throw new BadRequestError(`${question}: no answer (the input ended)`);
    throw err;
  } finally {
    rl.close();
  }
}
