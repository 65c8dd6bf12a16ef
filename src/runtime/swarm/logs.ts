import type { Readable } from 'node:stream';
import { connectLogStream, toReadable } from '../docker/logs.js';
import { DockerStreamDemuxer } from '../docker/log-demux.js';
import { mapDockerError } from '../docker/errors.js';
import type { LogsOptions } from '../docker/logs.js';
import type { SwarmContext } from './context.js';
import { requireService } from './engine.js';

/** The service's logs: every task's stdout and stderr, as the manager gathers them from the nodes. */
export async function serviceLogs(ctx: SwarmContext, id: string, options: LogsOptions = {}): Promise<Readable> {
  const service = await requireService(ctx, id);
  const base = { stdout: true, stderr: true, ...(options.tail === undefined ? {} : { tail: options.tail }) };
  let raw: unknown;
  try {
    raw = await ctx.docker().getService(service.ID).logs({ ...base, follow: options.follow ?? false } as never);
  } catch (err) {
    throw mapDockerError(err, `reading logs of service ${service.Spec.Name}`, ctx.endpoint.url);
  }
  // berth's services never have a TTY: the engine multiplexes stdout and stderr.
  const out = new DockerStreamDemuxer();
  out.setEncoding('utf8');
  connectLogStream(toReadable(raw), out, options.signal);
  return out;
}
