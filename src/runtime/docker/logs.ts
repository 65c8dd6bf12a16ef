import { PassThrough, type Readable } from 'node:stream';
import type { Transform } from 'node:stream';
import type Docker from 'dockerode';
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
  const query = { stdout: true, stderr: true, follow: options.follow === true, ...(options.tail === undefined ? {} : { tail: options.tail }) };
  let raw: Readable;
  try {
    raw = await dialLogStream(ctx.docker(), `/containers/${encodeURIComponent(info.Id)}/logs?`, query);
  } catch (err) {
    throw mapDockerError(err, `reading logs of container ${name}`, ctx.endpoint.url);
  }
  // A TTY container's output is raw; without a TTY the engine multiplexes it (see DockerStreamDemuxer).
  const out: Transform = info.Config.Tty ? new PassThrough() : new DockerStreamDemuxer();
  out.setEncoding('utf8');
  connectLogStream(raw, out, options.signal);
  return out;
}

type DialLogs = (options: object, callback: (err: unknown, data?: unknown) => void) => void;

/**
 * The engine's logs body as a stream, with or without follow. dockerode asks
 * docker-modem for a stream only when following; otherwise the modem gathers the
 * whole body before answering (and parses it when it happens to be JSON): an app
 * that floods its output has up to its log driver's bound (100 MB with json-file)
 * held in the gateway per reader, and the reader gets no byte until all of it came.
 * `path` is the logs path of a container or a service, ending in `?` as the modem wants.
 */
export function dialLogStream(docker: Docker, path: string, query: Record<string, unknown>): Promise<Readable> {
  const modem = docker.modem as unknown as { dial: DialLogs };
  return new Promise((resolve, reject) => {
    modem.dial(
      {
        path,
        method: 'GET',
        isStream: true,
        statusCodes: { 200: true, 404: 'no such object', 500: 'server error', 503: 'node is not part of a swarm' },
        options: query,
      },
      (err, data) => (err ? reject(err) : resolve(data as Readable)),
    );
  });
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
