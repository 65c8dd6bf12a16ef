/** The frame of a benchmark's main: cleanup on SIGINT/SIGTERM and at the end, exit codes, the results files. */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export const logger =
  (tag: string) =>
  (msg: string): void =>
    void process.stderr.write(`[${tag}] ${msg}\n`);

export interface RunFrame {
  log: (msg: string) => void;
  /** How long cleanup after a signal may take before the process exits anyway. */
  forceExitMs: number;
  /** Whether to log "cleaned up" at the end after a signal (its handler logged it already). */
  logCleanupAfterSignal: boolean;
}

/**
 * Runs `body` and exits: 0 when it went well, 1 with the error logged when not.
 * Once `body` hands over its cleanup (which removes what the run created and says
 * what), that runs once: at the end, or on SIGINT/SIGTERM (then exit 130).
 */
export function runMain(frame: RunFrame, body: (setCleanup: (cleanup: () => Promise<string>) => void) => Promise<void>): void {
  let cleanupFn: (() => Promise<string>) | undefined;
  let cleaning: Promise<string> | undefined;
  const cleanup = () => (cleaning ??= cleanupFn!());
  let signalled = false;
  const setCleanup = (fn: () => Promise<string>): void => {
    cleanupFn = fn;
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        signalled = true;
        frame.log(`${signal}: cleaning up`);
        const force = setTimeout(() => process.exit(130), frame.forceExitMs);
        force.unref();
        void cleanup()
          .then((removed) => frame.log(`cleaned up: ${removed} removed`))
          .finally(() => process.exit(130));
      });
    }
  };
  const run = async () => {
    try {
      await body(setCleanup);
    } finally {
      if (cleanupFn) {
        const removed = await cleanup();
        if (!signalled || frame.logCleanupAfterSignal) frame.log(`cleaned up: ${removed} removed`);
      }
    }
  };
  run().then(
    () => process.exit(0),
    (err: unknown) => {
      frame.log(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exit(1);
    },
  );
}

/** `<name>-20260102T030405Z.json` for a run that started at that time. */
export function stampedName(name: string, started: Date): string {
  return `${name}-${started.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}.json`;
}

/** Writes the result next to `json` under a timestamped name, and copies it to `json`; returns the stamped path. */
export async function writeResult(json: string, name: string, started: Date, result: unknown): Promise<string> {
  await mkdir(dirname(json), { recursive: true });
  const stamped = join(dirname(json), stampedName(name, started));
  await writeFile(stamped, JSON.stringify(result, null, 2) + '\n');
  await copyFile(stamped, json);
  return stamped;
}
