import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type { RuntimeEvent } from '../runtime.js';
import type { DockerContext } from './context.js';
import { mapDockerError } from './errors.js';
import { toNetworkEvent, toRuntimeEvent, type DockerEventMessage } from './event-mapping.js';
import { drainJsonLines } from './json-lines.js';
import { MANAGED_FILTER } from './names.js';
import { StreamBackoff } from '../stream-backoff.js';

/**
 * Called when the event stream broke and is about to be reopened. `again`: the stream
 * reopened last time broke as well, before it had served a while (the engine is still
 * in trouble: a log says so once, not at every retry).
 */
export type EventStreamErrorHandler = (err: Error, retryInMs: number, again?: boolean) => void;

/**
 * Lifecycle events of berth's containers until `signal` aborts.
 *
 * The engine closes /events when it restarts and the connection can break, but the
 * activator and reconciler must not silently go deaf: the stream is reopened, after
 * a pause doubling from 250 ms to 5 s so a dead engine is not hammered (reset once a
 * stream has stayed open 5 s). It is reopened with `since` set to the last event seen,
 * so the engine replays what happened while disconnected; events already delivered
 * are skipped by their nanosecond time.
 */
export function watchEvents(ctx: DockerContext, signal: AbortSignal, onError?: EventStreamErrorHandler): AsyncGenerator<RuntimeEvent> {
  return watchStream(ctx, signal, { type: ['container'], label: [MANAGED_FILTER] }, toRuntimeEvent, onError);
}

/**
 * The engine's network connects and disconnects, as 'network' events (event-mapping.ts).
 * A second stream: the engine ANDs filters, and network events carry no container
 * labels, so the managed-label filter of the container stream would drop them all.
 * A container taken off its network (`docker network disconnect`) loses its published
 * port while it runs on, and a reconnect publishes it at another: no container event says so.
 */
export function watchNetworkEvents(ctx: DockerContext, signal: AbortSignal, onError?: EventStreamErrorHandler): AsyncGenerator<RuntimeEvent> {
  return watchStream(ctx, signal, { type: ['network'], event: ['connect', 'disconnect'] }, toNetworkEvent, onError);
}

async function* watchStream(
  ctx: DockerContext,
  signal: AbortSignal,
  filters: Record<string, string[]>,
  toEvent: (msg: DockerEventMessage) => RuntimeEvent | undefined,
  onError?: EventStreamErrorHandler,
): AsyncGenerator<RuntimeEvent> {
  const seen = new ReplayGuard();
  const backoff = new StreamBackoff();
  let broken = false;
  while (!signal.aborted) {
    let stream: Readable | undefined;
    let openedAt: number | undefined;
    let failure: Error | undefined;
    try {
      stream = (await ctx.docker().getEvents({
        filters,
        ...(seen.sinceS === undefined ? {} : { since: seen.sinceS }),
        abortSignal: signal,
      })) as Readable;
      openedAt = performance.now();
      for await (const msg of messages(stream)) {
        if (!seen.isNew(msg)) continue;
        const event = toEvent(msg);
        if (event) yield event;
      }
      if (!signal.aborted) failure = new Error(`Docker engine at ${ctx.endpoint.url} closed the event stream`);
    } catch (err) {
      if (signal.aborted) return;
      failure = mapDockerError(err, 'watching Docker events', ctx.endpoint.url);
    } finally {
      // Also runs when the consumer stops iterating early: the engine connection must not leak.
      stream?.destroy();
    }
    if (!failure) continue;
    const { waitMs, steady } = backoff.next(openedAt === undefined ? undefined : performance.now() - openedAt);
    onError?.(failure, waitMs, broken && !steady);
    broken = true;
    await delay(waitMs, undefined, { signal }).catch(() => undefined);
  }
}

/** The engine's events, one JSON object per line (see drainJsonLines). */
async function* messages(stream: Readable): AsyncGenerator<DockerEventMessage> {
  let buffered = '';
  stream.setEncoding('utf8');
  for await (const chunk of stream as AsyncIterable<string>) {
    const complete: DockerEventMessage[] = [];
    buffered = drainJsonLines<DockerEventMessage>(buffered + chunk, (msg) => complete.push(msg));
    yield* complete;
  }
}

/**
 * Remembers the newest event time seen, to ask the engine for a replay from there
 * (`since` is whole seconds, so the replay overlaps) and drop what was delivered.
 * timeNano exceeds 2^53 and loses some nanoseconds in JSON.parse, so events that land
 * on the same number are told apart by container and action.
 */
class ReplayGuard {
  private lastNano = 0;
  private atLast = new Set<string>();

  get sinceS(): number | undefined {
    return this.lastNano === 0 ? undefined : Math.floor(this.lastNano / 1e9);
  }

  isNew(msg: DockerEventMessage): boolean {
    const nano = msg.timeNano ?? (msg.time ?? 0) * 1e9;
    const key = `${msg.Actor?.ID}/${msg.Action}`;
    if (nano < this.lastNano || (nano === this.lastNano && this.atLast.has(key))) return false;
    if (nano > this.lastNano) {
      this.lastNano = nano;
      this.atLast.clear();
    }
    this.atLast.add(key);
    return true;
  }
}
