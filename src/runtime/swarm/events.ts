import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type { RuntimeEvent } from '../runtime.js';
import { mapDockerError } from '../docker/errors.js';
import type { EventStreamErrorHandler } from '../docker/events.js';
import { StreamBackoff } from '../stream-backoff.js';
import { LABEL_APP } from '../runtime.js';
import type { SwarmContext } from './context.js';
import { findTask, listServices, listTasks } from './engine.js';
import type { NodeBook } from './nodes.js';
import { runningTask } from './service-instance.js';
import { drifted } from './service-spec.js';
import { diffTasks, endedTasks, exitCodeOf, type TaskSnapshot } from './task-diff.js';

/**
 * Lifecycle events of berth's services until `signal` aborts. The manager's event
 * stream has service and node events but none for tasks (container events come only
 * from the node that runs the container), so the tasks are listed every
 * swarm.taskPollMs and at once when a service or node event arrives; the changes
 * become start / die / destroy events (task-diff.ts).
 */
export async function* watchSwarm(ctx: SwarmContext, nodes: NodeBook, signal: AbortSignal, onError?: EventStreamErrorHandler): AsyncGenerator<RuntimeEvent> {
  const poke = new Poke();
  void followEngineEvents(ctx, nodes, signal, () => poke.fire(), onError);
  let before: TaskSnapshot | undefined;
  // A poll fails every taskPollMs while the engine is down: the handler hears the repeats as such (logged once).
  let failing = false;
  while (!signal.aborted) {
    try {
      const after = await snapshot(ctx);
      if (before) yield* diffTasks(before, after, new Date(), await exitCodes(ctx, endedTasks(before, after)));
      before = after;
      failing = false;
    } catch (err) {
      if (signal.aborted) return;
      onError?.(err instanceof Error ? err : new Error(String(err)), ctx.swarm.taskPollMs, failing);
      failing = true;
    }
    await poke.wait(ctx.swarm.taskPollMs, signal);
  }
}

async function snapshot(ctx: SwarmContext): Promise<TaskSnapshot> {
  const [services, tasks] = await Promise.all([listServices(ctx), listTasks(ctx)]);
  const apps = new Map(services.map((s) => [s.ID, s.Spec.Labels?.[LABEL_APP] ?? '']));
  const running = new Map<string, string>();
  const changed = new Map<string, number>();
  for (const s of services) {
    const task = runningTask(s.ID, tasks);
    if (task) running.set(s.ID, task.ID);
    if (drifted(s.Spec)) changed.set(s.ID, s.Version.Index);
  }
  return { apps, running, changed };
}

/** The exit codes of the tasks that ended by themselves, by task id: one inspect per ended task, so none in a quiet poll. */
async function exitCodes(ctx: SwarmContext, tasks: readonly string[]): Promise<Map<string, number>> {
  const codes = new Map<string, number>();
  for (const id of tasks) {
    const code = exitCodeOf(await findTask(ctx, id));
    if (code !== undefined) codes.set(id, code);
  }
  return codes;
}

/** Service and node events only say "look now"; a node event also means its address may have changed. */
async function followEngineEvents(ctx: SwarmContext, nodes: NodeBook, signal: AbortSignal, look: () => void, onError?: EventStreamErrorHandler): Promise<void> {
  const backoff = new StreamBackoff();
  let failing = false;
  while (!signal.aborted) {
    let stream: Readable | undefined;
    let openedAt: number | undefined;
    let failure: Error | undefined;
    try {
      stream = (await ctx.docker().getEvents({ filters: { type: ['service', 'node'] }, abortSignal: signal } as never)) as unknown as Readable;
      openedAt = performance.now();
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (chunk.includes('"Type":"node"')) await nodes.refresh().catch(() => undefined);
        look();
      }
    } catch (err) {
      if (signal.aborted) return;
      failure = mapDockerError(err, 'watching swarm events', ctx.endpoint.url);
    } finally {
      stream?.destroy();
    }
    if (signal.aborted) return;
    // A stream that ended, as one that failed, waits its turn: one ended at once must not be reopened in a loop.
    const { waitMs, steady } = backoff.next(openedAt === undefined ? undefined : performance.now() - openedAt);
    if (failure) {
      onError?.(failure, waitMs, failing && !steady);
      failing = true;
    } else if (steady) failing = false;
    await delay(waitMs, undefined, { signal }).catch(() => undefined);
  }
}

/** A sleep that ends early when poked. */
class Poke {
  private wake: (() => void) | undefined;
  private poked = false;

  fire(): void {
    this.poked = true;
    this.wake?.();
  }

  async wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.poked) {
      this.poked = false;
      return;
    }
    const woken = new Promise<void>((resolve) => (this.wake = resolve));
    await Promise.race([woken, delay(ms, undefined, { signal }).catch(() => undefined)]);
    this.wake = undefined;
    this.poked = false;
  }
}
