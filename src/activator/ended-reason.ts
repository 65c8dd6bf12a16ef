import { OUT_OF_MEMORY } from './start-watch.js';

/**
 * What ended an app's last container when berth did not (AppStatus.reason). Pure.
 * `signal`: the engine reported a signal sent to it shortly before (its `kill`
 * event: `docker stop` sends 15, `docker kill` 9, `docker restart` 15 then 9 if need
 * be): an app that exits on SIGTERM says code 0, which alone reads as a clean exit
 * of its own, and 137 alone as a crash.
 */
export function endedReason(exitCode: number | undefined, signal?: number): string {
  if (exitCode === undefined) return 'its container is gone';
  if (signal !== undefined) return `its container was sent signal ${signal} outside berth (docker stop, kill or restart) and exited with code ${exitCode}`;
  return `its container exited by itself with code ${exitCode}`;
}

/** A signal counts for an exit this soon after it (docker stop waits 10 s by default before its SIGKILL, which is a signal of its own). */
export const SIGNAL_COUNTS_FOR_MS = 15_000;

/**
 * Signals the engine reported sent to containers, until their exit: berth's own
 * stops send them too, and take them at their (ignored) exit.
 */
export class SignalBook {
  private readonly sent = new Map<string, { signal: number; atMs: number }>();

  note(instanceId: string, signal: number, atMs: number): void {
    this.sent.set(instanceId, { signal, atMs });
  }

  /** The signal sent to `instanceId` shortly before `atMs`, forgotten once asked. */
  take(instanceId: string, atMs: number): number | undefined {
    const entry = this.sent.get(instanceId);
    this.sent.delete(instanceId);
    return entry && atMs - entry.atMs <= SIGNAL_COUNTS_FOR_MS ? entry.signal : undefined;
  }

  forget(instanceId: string): void {
    this.sent.delete(instanceId);
  }
}

/**
 * lastError for a container the kernel killed for its memory while the gateway ran: with the limit it went past
 * (`memoryBytes`, the spec's; undefined: the gateway's default) and where to raise it. Pure.
 */
export function outOfMemoryError(exitCode: number | undefined, memoryBytes: number | undefined): string {
  const mib = memoryBytes === undefined ? "the gateway's default" : `${Math.round(memoryBytes / 2 ** 20)} MiB`;
  return `${OUT_OF_MEMORY} (code ${exitCode ?? 137}; its limit: ${mib}); give it more with resources.memory`;
}
