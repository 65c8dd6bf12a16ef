import { containerExited, type Instance } from '../runtime/runtime.js';

/** How a container the kernel killed for its memory is told (a bare 137 reads like any kill). */
export const OUT_OF_MEMORY = 'the container ran out of memory and was killed';

/** How a container frozen by a `docker pause` during its start is told (it would never answer within the start timeout). */
export const PAUSED_WHILE_STARTING = 'the container was paused outside berth while it started';

/**
 * Exit codes of a container that may have been stopped by a signal from outside:
 * 143 (SIGTERM, a `docker stop` or `docker restart`), 137 (SIGKILL, a `docker
 * kill`, or a restart whose app ignored SIGTERM), and 0 (an app that ends cleanly
 * on SIGTERM: a restart of it failed the start with "exited with code 0"). An app
 * that fails by itself exits otherwise; one that exits 0 by itself during its start
 * is told so after the short look.
 */
export const SIGNALLED: ReadonlySet<number> = new Set([0, 137, 143]);

/**
 * What the engine's view of a container being started means for the start. Pure.
 * - starting: it still runs as started; keep probing.
 * - restarted: it was started again behind berth's back (`docker restart`): its
 *   new run is probed at its new address (a restart publishes the port anew).
 * - maybe-restarting: stopped by a signal from outside, which a `docker restart`
 *   does just before it starts it again: worth a short look before failing.
 * - unrouted: it runs, but its published port is gone (taken off its network):
 *   starting it again joins it back (the runtime's start), at a new port.
 * - gone: removed behind berth's back (`docker rm -f`): a new one can be made.
 * - failed: it exited by itself, was killed for its memory, or was paused
 *   (frozen, it would never answer within the start timeout).
 */
export type DuringStart =
  | { kind: 'starting' }
  | { kind: 'restarted'; now: Instance }
  | { kind: 'maybe-restarting'; reason: string }
  | { kind: 'unrouted' }
  | { kind: 'gone'; reason: string }
  | { kind: 'failed'; reason: string };

export function duringStart(started: Pick<Instance, 'startedAt' | 'address'>, now: Instance | undefined): DuringStart {
  if (!now) return { kind: 'gone', reason: 'the container disappeared' };
  if (now.state === 'exited' || now.state === 'dead') {
    if (now.oomKilled) return { kind: 'failed', reason: `${OUT_OF_MEMORY} (code ${now.exitCode ?? 137}); give it more with resources.memory` };
    const reason = containerExited(now.exitCode);
    return now.exitCode !== undefined && SIGNALLED.has(now.exitCode) ? { kind: 'maybe-restarting', reason } : { kind: 'failed', reason };
  }
  if (now.state === 'paused') return { kind: 'failed', reason: PAUSED_WHILE_STARTING };
  if (now.state !== 'running') return { kind: 'starting' };
  if (started.address !== undefined && now.address === undefined) return { kind: 'unrouted' };
  const again = now.startedAt !== undefined && started.startedAt !== undefined && now.startedAt.getTime() !== started.startedAt.getTime();
  const moved = now.address !== undefined && started.address !== undefined && now.address.port !== started.address.port;
  return again || moved ? { kind: 'restarted', now } : { kind: 'starting' };
}
