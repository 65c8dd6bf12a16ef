import { containerExited, type Instance } from '../runtime/runtime.js';
import { OUT_OF_MEMORY, SIGNALLED } from './start-watch.js';

/** What the engine still knows of a container's last end, read when a gateway takes the app over. */
export type ExitRecord = Pick<Instance, 'exitCode' | 'oomKilled' | 'engineError' | 'finishedAt'>;

/**
 * How an app found stopped is told: its `reason`, and its `lastError` when the end
 * was a failure. The state stays `stopped`: the next request starts it again.
 */
export interface AdoptedExit {
  reason: string;
  lastError?: string;
}

/** Signals end a process with 128 + the signal's number. */
const SIGNAL_BASE = 128;

/**
 * What a container found exited when this gateway took the app over says of the
 * app (AppStatus.reason, lastError). Pure. Asked only for an app that shows no failure the
 * store kept (kept-failure.ts): one whose last start failed keeps that. Otherwise the engine's
 * record is all there is; and the engine does not say who stopped a container.
 * An end berth's own stop gives (0, 143, 137: see SIGNALLED) is told as nothing,
 * a plain `stopped`; another signal's (an image's STOPSIGNAL, a `docker kill -s`)
 * is told, but not as a failure: it may have been berth's stop too. An exit code
 * of the app's own, the kernel's OOM kill, or the engine's failure to run it are
 * failures.
 */
export function adoptedExit(exit: ExitRecord): AdoptedExit | undefined {
  const when = `${exit.finishedAt ? ` at ${exit.finishedAt.toISOString()}` : ''} (before this gateway took the app over)`;
  const engineError = exit.engineError?.trim();
  if (engineError) return { reason: `the engine could not run its container${when}: ${engineError}`, lastError: `the engine could not run the container: ${engineError}` };
  if (exit.oomKilled) {
    return { reason: `its container was killed for lack of memory${when}`, lastError: `${OUT_OF_MEMORY} (code ${exit.exitCode ?? 137}); give it more with resources.memory` };
  }
  const code = exit.exitCode;
  if (code === undefined || SIGNALLED.has(code)) return undefined;
  if (code > SIGNAL_BASE && code < SIGNAL_BASE + 65) return { reason: `its container ended on signal ${code - SIGNAL_BASE} (code ${code})${when}` };
  return { reason: `its container exited with code ${code}${when}`, lastError: containerExited(code) };
}

/** Of several exited containers of an app, the one that ended last: its end is the app's. */
export function lastEnded<T extends ExitRecord>(exited: readonly T[]): T | undefined {
  let last: T | undefined;
  for (const e of exited) if (!last || (e.finishedAt?.getTime() ?? 0) > (last.finishedAt?.getTime() ?? 0)) last = e;
  return last;
}
