import type { Readable } from 'node:stream';
import { connectLogStream, dialLogStream } from '../docker/logs.js';
import { DockerStreamDemuxer } from '../docker/log-demux.js';
import { mapDockerError } from '../docker/errors.js';
import type { LogsOptions } from '../docker/logs.js';
import type { SwarmContext } from './context.js';
import { requireService } from './engine.js';

/** The service's logs: every task's stdout and stderr, as the manager gathers them from the nodes. */
export async function serviceLogs(ctx: SwarmContext, id: string, options: LogsOptions = {}): Promise<Readable> {
  const service = await requireService(ctx, id);
  const query = { stdout: true, stderr: true, follow: options.follow === true, ...(options.tail === undefined ? {} : { tail: options.tail }) };
  let raw: Readable;
  try {
    // Streamed with or without follow: see dialLogStream.
    raw = await dialLogStream(ctx.docker(), `/services/${encodeURIComponent(service.ID)}/logs?`, query);
  } catch (err) {
    throw mapDockerError(err, `reading logs of service ${service.Spec.Name}`, ctx.endpoint.url);
  }
  // berth's services never have a TTY: the engine multiplexes stdout and stderr.
  const out = new DockerStreamDemuxer();
  out.setEncoding('utf8');
  connectLogStream(raw, out, options.signal);
  return out;
}
