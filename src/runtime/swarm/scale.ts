import { setTimeout as delay } from 'node:timers/promises';
import { NotFoundError, RuntimeError, StartFailedError } from '../../errors.js';
import { LABEL_APP, type Instance, type StartOptions } from '../runtime.js';
import { readImageHealthcheck } from '../docker/image.js';
import type { SwarmContext } from './context.js';
import { findService, listTasks, scaleService } from './engine.js';
import type { NodeBook } from './nodes.js';
import { runningTask, toInstance } from './service-instance.js';
import { drifted, imageOf, relabelHealthcheck } from './service-spec.js';
import { UNSCHEDULABLE_GRACE_MS, awaited, calledOff, taskWait, unschedulable, unschedulableReason, waitedFor } from './start-verdict.js';
import { stillStopping } from './stop-verdict.js';
import type { SwarmService, SwarmTask } from './wire.js';

const POLL_MS = 100;
/** How often a wake reads its service again, to notice it removed or scaled to 0 outside berth. */
const SERVICE_CHECK_MS = 1_000;

/**
 * Wakes the instance: the service asks for a task (replicas 1) and the call returns
 * when the Swarm runs it and its node published the port, with that address. A task
 * that fails or is rejected (no image on its node, say) ends the wake at once, with
 * the service scaled back to 0 so the Swarm does not retry behind berth's back; so
 * does a task no node can take, once the scheduler has said so for a moment
 * (start-verdict.ts), rather than at the end of the task start time.
 *
 * A service whose template was changed behind berth's back (`docker service update
 * --image`, --env-add) is not started as it is: the NotFoundError says the instance
 * berth made is gone, and the caller brings a service to the app's spec (ensure),
 * as it makes a new container when one was removed. One removed or scaled to 0
 * outside berth while its task starts ends the wake (NotFoundError when removed, so a
 * cold start makes it anew) instead of waiting out the task start time.
 *
 * The wait is bounded by the tighter of swarm.taskStartMs and `options.timeoutMs`
 * (what is left of the app's startTimeout: taskWait); past the latter it is a
 * timed-out start (StartFailedError, 504) with the tasks' states as its reason.
 * Either way, and when `options.signal` aborts, the service goes back to 0.
 */
export async function startService(ctx: SwarmContext, nodes: NodeBook, id: string, options: StartOptions = {}): Promise<Instance> {
  const wait = taskWait(ctx.swarm.taskStartMs, options.timeoutMs);
  const began = performance.now();
  const before = new Set((await listTasks(ctx, id, 'any')).map((t) => t.ID));
  const healthcheck = await imageHealthcheckNow(ctx, id);
  const service = await scaleService(ctx, id, 1, requireUnchanged, (spec) => relabelHealthcheck(spec, healthcheck));
  const deadline = began + wait.ms;
  let refusedSince: number | undefined;
  let checkedAt = performance.now();
  for (;;) {
    const tasks = await listTasks(ctx, id, 'any');
    const task = runningTask(id, tasks);
    if (task?.NodeID) {
      await nodes.addressOf(task.NodeID);
      const instance = toInstance(service, tasks, (n) => nodes.known(n));
      if (instance.address) return instance;
      if (!nodes.known(task.NodeID)) return giveUp(ctx, id, `node ${task.NodeID} has no address berth can dial: set swarm.nodeAddresses or the node label berth.address`);
    }
    const failed = tasks.find((t) => !before.has(t.ID) && (t.Status.State === 'failed' || t.Status.State === 'rejected'));
    if (failed) {
      if (failed.NodeID) await nodes.addressOf(failed.NodeID);
      // By hostname, as `docker node ls` shows it: an id alone sent the user to look it up.
      return giveUp(ctx, id, `its task ${failed.Status.State} on node ${failed.NodeID ? nodes.nameOf(failed.NodeID) : '?'}: ${failed.Status.Err ?? 'no reason given'}`);
    }
    const refused = unschedulable(tasks, before);
    if (!refused) refusedSince = undefined;
    else if ((refusedSince ??= performance.now()) + UNSCHEDULABLE_GRACE_MS <= performance.now()) return giveUp(ctx, id, unschedulableReason(service, refused, (n) => nodes.nameOf(n)));
    if (performance.now() - checkedAt >= SERVICE_CHECK_MS) {
      checkedAt = performance.now();
      const now = await findService(ctx, id);
      const why = calledOff(now);
      if (why) throw now ? new RuntimeError(`service ${service.Spec.Name}: ${why}`) : new NotFoundError(`service ${service.Spec.Name}: ${why}`);
    }
    // Called off (a stop or delete of the app): the task asked for must not run on, untracked.
    if (options.signal?.aborted) return giveUp(ctx, id, 'the start was called off');
    if (performance.now() > deadline) {
      const pending = pendingReason(tasks, before);
      if (!wait.byStartTimeout) return giveUp(ctx, id, `the swarm ran no task ${waitedFor(wait, ctx.swarm.taskStartMs)} (${pending})`);
      // As a container not ready within startTimeout on one engine: a timed-out start (504), its reason named.
      await scaleService(ctx, id, 0).catch(() => undefined);
      const app = service.Spec.Labels?.[LABEL_APP] ?? service.Spec.Name;
      throw new StartFailedError(app, `not ready in time: its service ${service.Spec.Name} ran no task ${waitedFor(wait, ctx.swarm.taskStartMs)} (${pending})`, true);
    }
    await delay(POLL_MS);
  }
}

/**
 * Whether the image of the service declares a HEALTHCHECK now (the manager's copy, as
 * when berth wrote the service); undefined when that cannot be told, which leaves the
 * label as it is: a wake does not fail for it.
 */
async function imageHealthcheckNow(ctx: SwarmContext, id: string): Promise<boolean | undefined> {
  const image = imageOf((await findService(ctx, id))?.Spec);
  return image === undefined ? undefined : readImageHealthcheck(ctx, image).catch(() => undefined);
}

function requireUnchanged(service: SwarmService): void {
  if (drifted(service.Spec)) throw new NotFoundError(`service ${service.Spec.Name} was changed outside berth (docker service update); berth brings it back to the app's spec`);
}

async function giveUp(ctx: SwarmContext, id: string, why: string): Promise<never> {
  const service = await scaleService(ctx, id, 0).catch(() => undefined);
  throw new RuntimeError(`service ${service?.Spec.Name ?? id}: ${why}`);
}

function pendingReason(tasks: readonly SwarmTask[], before: ReadonlySet<string>): string {
  const mine = tasks.filter((t) => awaited(t, before));
  if (mine.length === 0) return 'no task was created';
  return mine.map((t) => `${t.Status.State}${t.Status.Err ? `: ${t.Status.Err}` : ''}`).join('; ');
}

/**
 * Scales the service to 0 and waits until its tasks ended (the containers keep their
 * volume); a task on a node that is down is not waited for (stillStopping).
 */
export async function stopService(ctx: SwarmContext, nodes: NodeBook, id: string, timeoutS = 10): Promise<void> {
  await scaleService(ctx, id, 0);
  const deadline = performance.now() + (timeoutS + 20) * 1000;
  let nodesAt = -Infinity;
  while (performance.now() < deadline) {
    const tasks = await listTasks(ctx, id, 'any');
    if (stillStopping(tasks, () => false).length === 0) return;
    // The nodes are listed again at most once a second: one that went down meanwhile stops being waited for.
    if (performance.now() - nodesAt >= SERVICE_CHECK_MS) {
      nodesAt = performance.now();
      await nodes.refresh();
    }
    if (stillStopping(tasks, (n) => nodes.down(n)).length === 0) return;
    await delay(POLL_MS);
  }
  throw new RuntimeError(`service ${id}: its tasks did not stop within ${timeoutS + 20} s`);
}
