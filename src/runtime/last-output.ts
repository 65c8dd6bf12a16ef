import type { Readable } from 'node:stream';

/** Lines of a dead container's output quoted in why its start failed. */
const QUOTED_LINES = 3;
/** Most characters quoted of one line. */
const LINE_CHARS = 200;
/** Log entries asked of the engine: enough for the last few lines around blank ones. */
const TAIL_ENTRIES = 20;
/** Most characters kept while reading: an app may end with a line of megabytes (the engine splits it in 16 KiB entries). */
const READ_CHARS = 16 * 1024;
/** A failure is not held up for its quote. */
const READ_MS = 2_000;

/**
 * The end of a container's output, as a failure reason quotes it: its last few
 * non-blank lines, each cut short, joined on one line. The app wrote it, so its
 * escape sequences and control characters are dropped (the reason is shown on
 * terminals, in the dashboard and in logs). Undefined when it wrote nothing. Pure.
 */
export function lastOutputNote(text: string): string | undefined {
  const lines = text
    // eslint-disable-next-line no-control-regex
    .replace(/\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)?/g, '')
    .split(/\r\n|\r|\n/)
    // eslint-disable-next-line no-control-regex
    .map((line) => line.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g, ' ').trim())
    .filter((line) => line.length > 0)
    .slice(-QUOTED_LINES)
    .map((line) => (line.length > LINE_CHARS ? `${line.slice(0, LINE_CHARS)}…` : line));
  return lines.length > 0 ? `its last output: ${lines.join(' | ')}` : undefined;
}

/**
 * Reads the end of a container's output with `logs` (a Runtime's, or the Docker
 * runtime's own) and quotes it (lastOutputNote); undefined when there is none or
 * it cannot be read within READ_MS: a failure is told without it rather than late.
 */
export async function lastOutput(logs: (options: { tail: number; signal: AbortSignal }) => Promise<Readable>): Promise<string | undefined> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), READ_MS);
  try {
    const stream = await logs({ tail: TAIL_ENTRIES, signal: abort.signal });
    let text = '';
    for await (const chunk of stream) {
      text += String(chunk);
      if (text.length > 2 * READ_CHARS) text = text.slice(-READ_CHARS);
    }
    return lastOutputNote(text.slice(-READ_CHARS));
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}
