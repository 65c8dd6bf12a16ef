import type { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { connectLogStream, dialLogStream } from '../docker/logs.js';
import { DockerStreamDemuxer } from '../docker/log-demux.js';
import { mapDockerError } from '../docker/errors.js';
import type { LogsOptions } from '../docker/logs.js';
import type { SwarmContext } from './context.js';
import { requireService } from './engine.js';
import { lastLines } from './log-tail.js';
import type { SwarmService } from './wire.js';

/**
 * The most lines a tail is picked from all the tasks together: the tail of each is held
 * in the gateway to sort it (a tail of a million lines of six tasks would be gigabytes).
 * A longer tail is streamed as the engine sends it: the last lines of each task.
 */
const MERGED_TAIL_MAX = 10_000;

/**
 * The service's logs: every task's stdout and stderr, as the manager gathers them from
 * the nodes. With `tail`, the newest lines of all its tasks together (log-tail.ts),
 * then, when following, what they write from there on.
 */
export async function serviceLogs(ctx: SwarmContext, id: string, options: LogsOptions = {}): Promise<Readable> {
  const service = await requireService(ctx, id);
  const follow = options.follow === true;
  const out = new DockerStreamDemuxer();
  out.setEncoding('utf8');
  if (options.tail === undefined || options.tail > MERGED_TAIL_MAX) {
    connectLogStream(await dial(ctx, service, { follow, ...(options.tail === undefined ? {} : { tail: options.tail }) }), out, options.signal);
    return out;
  }
  const tail = lastLines(await text(demuxed(await dial(ctx, service, { follow: false, timestamps: true, tail: options.tail }))), options.tail);
  if (tail.text) out.push(tail.text);
  if (!follow) {
    out.end();
    return out;
  }
  // Going on just past the newest line read: none is shown twice, none written meanwhile is lost.
  connectLogStream(await dial(ctx, service, { follow: true, ...(tail.since ? { since: tail.since } : { tail: 0 }) }), out, options.signal);
  return out;
}

async function dial(ctx: SwarmContext, service: SwarmService, query: Record<string, unknown>): Promise<Readable> {
  try {
    // Streamed with or without follow: see dialLogStream.
    return await dialLogStream(ctx.docker(), `/services/${encodeURIComponent(service.ID)}/logs?`, { stdout: true, stderr: true, ...query });
  } catch (err) {
    throw mapDockerError(err, `reading logs of service ${service.Spec.Name}`, ctx.endpoint.url);
  }
}

/** berth's services never have a TTY: the engine multiplexes stdout and stderr. */
function demuxed(raw: Readable): Readable {
  const out = new DockerStreamDemuxer();
  raw.on('error', (err) => out.destroy(err));
  return raw.pipe(out);
}
