import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { BerthError, RuntimeError } from '../errors.js';

/**
 * Puts `prefix` before every line of a text stream, as `docker compose logs` puts
 * the container's name: lines of several replicas read apart when interleaved. A
 * line is passed on once it is whole; a last line without its newline gets one, so
 * the next replica's line does not run on from it.
 */
/**
 * The longest piece of a line held back waiting for its newline: an app that writes
 * without one (a progress bar redrawn with \r) would otherwise have its whole output
 * held in the gateway. A longer line is passed on in pieces, each prefixed.
 */
export const MAX_HELD_LINE = 16_384;

export class LinePrefixer extends Transform {
  private partial = '';

  constructor(private readonly prefix: string) {
    super({ decodeStrings: false, encoding: 'utf8' });
  }

  override _transform(chunk: string | Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const text = this.partial + chunk.toString();
    const end = text.lastIndexOf('\n');
    let out = end < 0 ? '' : text.slice(0, end).split('\n').map((line) => `${this.prefix}${line}\n`).join('');
    let rest = text.slice(end + 1);
    while (rest.length > MAX_HELD_LINE) {
      out += `${this.prefix}${rest.slice(0, MAX_HELD_LINE)}\n`;
      rest = rest.slice(MAX_HELD_LINE);
    }
    this.partial = rest;
    callback(null, out === '' ? undefined : out);
  }

  override _flush(callback: TransformCallback): void {
    callback(null, this.partial === '' ? undefined : `${this.prefix}${this.partial}\n`);
  }
}

/**
 * The logs of several replicas as one text stream, each line prefixed with its
 * container's name (padded to the longest, so the lines line up), in the order
 * they arrive. It ends when every replica's stream ended; one that breaks cuts
 * it (an error, so the client is not told it has the whole log). Destroying it
 * closes every replica's stream. A slow reader slows every replica's stream.
 */
export function mergeReplicaLogs(replicas: ReadonlyArray<{ name: string; stream: Readable }>): Readable {
  const out = new PassThrough({ encoding: 'utf8' });
  const width = Math.max(0, ...replicas.map((r) => r.name.length));
  let open = replicas.length;
  for (const { name, stream } of replicas) {
    const lines = new LinePrefixer(`${name.padEnd(width)} | `);
    stream.on('error', (err) => out.destroy(err));
    lines.on('data', (chunk: string) => {
      if (!out.write(chunk)) {
        lines.pause();
        out.once('drain', () => lines.resume());
      }
    });
    lines.on('end', () => {
      if (--open === 0) out.end();
    });
    stream.pipe(lines);
  }
  out.on('close', () => {
    for (const { stream } of replicas) stream.destroy();
  });
  if (replicas.length === 0) out.end();
  return out;
}

/**
 * Opens the replicas' log streams one after another and merges them (mergeReplicaLogs).
 * Each stream opened waits, unread, while the next ones are opened (an engine round
 * trip or two each): an engine connection that broke meanwhile (the engine restarting)
 * was an 'error' with no listener, which ended the whole gateway. Each is listened to
 * from the moment it opens; one that broke, or one that cannot be opened, fails the
 * answer, and the others opened are closed.
 */
export async function openReplicaLogs(replicas: ReadonlyArray<{ name: string; open: () => Promise<Readable> }>): Promise<Readable> {
  const opened: Array<{ name: string; stream: Readable; off: () => void }> = [];
  let broke: unknown;
  try {
    for (const { name, open } of replicas) {
      const stream = await open();
      // The engine's own words, raw (a reset socket): told as the engine's failure, naming the replica.
      const onEarlyError = (err: Error) => (broke ??= err instanceof BerthError ? err : new RuntimeError(`the logs of ${name} broke while the other replicas' logs were opened: ${err.message}`, { cause: err }));
      stream.on('error', onEarlyError);
      opened.push({ name, stream, off: () => stream.off('error', onEarlyError) });
      if (broke) break;
    }
  } catch (err) {
    broke ??= err;
  }
  for (const { off } of opened) off();
  if (broke) {
    for (const { stream } of opened) stream.destroy();
    throw broke;
  }
  return mergeReplicaLogs(opened);
}
