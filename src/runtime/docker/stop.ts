import type { StopOutcome } from '../runtime.js';
import type { DockerContext } from './context.js';
import { DEFAULT_STOP_GRACE_S } from './engine-timeout.js';
import { mapDockerError, statusOf } from './errors.js';
import { inspectContainer, requireManaged } from './managed.js';

/**
 * Stops a berth container, keeping it and its volume. Stopping a stopped container
 * is not an error (the engine answers 304). `timeoutS` is how long Docker waits after
 * SIGTERM before SIGKILL; with the init process the app gets the signal directly.
 * The engine does not say whether it came to the kill: a stop that took the whole
 * timeout has the container looked at again (an app that exits on SIGTERM costs no call).
 */
export async function stopContainer(ctx: DockerContext, id: string, timeoutS?: number): Promise<StopOutcome> {
  const info = await requireManaged(ctx, id);
  if (info.State.Status === 'created' || info.State.Status === 'exited' || info.State.Status === 'dead') return { killed: false };
  const began = performance.now();
  try {
    await ctx.docker().getContainer(info.Id).stop(timeoutS === undefined ? {} : { t: timeoutS });
  } catch (err) {
    // 304: already stopped; 404: it went away meanwhile (auto-removed, or a concurrent remove).
    if (statusOf(err) === 304 || statusOf(err) === 404) return { killed: false };
    throw mapDockerError(err, `stopping container ${info.Name.replace(/^\//, '')}`, ctx.endpoint.url);
  }
  const tookMs = performance.now() - began;
  const waitS = timeoutS ?? (info.Config as { StopTimeout?: number }).StopTimeout ?? DEFAULT_STOP_GRACE_S;
  if (tookMs < waitS * 1000) return { killed: false };
  const after = await inspectContainer(ctx, info.Id).catch(() => undefined);
  return { killed: killedAtStop(tookMs, waitS, after?.State) };
}

/**
 * Whether a stop came to SIGKILL: it took the whole wait after SIGTERM and the
 * container ended with 137 (128 + 9), not by the OOM killer (which also says 137).
 * Pure; `state` undefined when the container could not be looked at.
 */
export function killedAtStop(tookMs: number, waitS: number, state: { ExitCode?: number; OOMKilled?: boolean } | undefined): boolean {
  return tookMs >= waitS * 1000 && state?.ExitCode === 137 && state.OOMKilled !== true;
}
