import { PassThrough, Readable } from 'node:stream';
import type { Transform } from 'node:stream';
import type { DockerContext } from './context.js';
import { mapDockerError } from './errors.js';
import { DockerStreamDemuxer } from './log-demux.js';
import { requireManaged } from './managed.js';

export interface LogsOptions {
  /** Only the last N lines. Default: all. */
  tail?: number;
  /** Keep the stream open and pass on new output. */
  follow?: boolean;
  /** Ends a followed stream cleanly (the Readable ends, it does not error). */
  signal?: AbortSignal;
}

/** A berth container's stdout and stderr, interleaved as written, as a UTF-8 text stream. */
export async function containerLogs(ctx: DockerContext, id: string, options: LogsOptions = {}): Promise<Readable> {
  const info = await requireManaged(ctx, id);
  const name = info.Name.replace(/^\//, '');
  const container = ctx.docker().getContainer(info.Id);
  const base = { stdout: true, stderr: true, ...(options.tail === undefined ? {} : { tail: options.tail }) };
  let raw: unknown;
  try {
    raw = options.follow ? await container.logs({ ...base, follow: true }) : await container.logs({ ...base, follow: false });
  } catch (err) {
    throw mapDockerError(err, `reading logs of container ${name}`, ctx.endpoint.url);
  }
  // A TTY container's output is raw; without a TTY the engine multiplexes it (see DockerStreamDemuxer).
  const out: Transform = info.Config.Tty ? new PassThrough() : new DockerStreamDemuxer();
  out.setEncoding('utf8');
  connectLogStream(toReadable(raw), out, options.signal);
  return out;
}

/** Without follow, docker-modem buffers the whole body (and parses it when it happens to be JSON). */
export function toReadable(raw: unknown): Readable {
  if (raw instanceof Readable) return raw;
  if (Buffer.isBuffer(raw)) return Readable.from([raw]);
  return Readable.from([Buffer.from(typeof raw === 'string' ? raw : JSON.stringify(raw))]);
}

/**
 * Pipes source into out. An abort (or the consumer destroying `out`) closes the
 * engine connection; it ends `out` normally, because stopping to follow is not a failure.
 */
export function connectLogStream(source: Readable, out: Transform, signal?: AbortSignal): void {
  const onAbort = (): void => {
    source.unpipe(out);
    source.destroy();
    out.end();
  };
  const cleanup = (): void => signal?.removeEventListener('abort', onAbort);
  source.on('error', (err) => {
    cleanup();
    if (!signal?.aborted) out.destroy(err);
  });
  source.on('end', cleanup);
  out.on('close', () => {
    cleanup();
    source.destroy();
  });
  if (signal?.aborted) return onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  source.pipe(out);
}
