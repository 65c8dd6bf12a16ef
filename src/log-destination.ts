import { destination, type DestinationStream } from 'pino';

/** How long lines are dropped after a failed write before writing is tried again. */
export const LOG_RETRY_MS = 5_000;

/** What the destination tells once writing works again after lines were dropped. */
export type LogResumed = (dropped: number, cause: string) => void;

type SonicBoomLike = DestinationStream & {
  write(line: string): boolean;
  flushSync(): void;
  on(event: 'error', listener: (err: NodeJS.ErrnoException) => void): unknown;
  on(event: 'write', listener: (n: number) => void): unknown;
};

/**
 * The log's destination: file descriptor `fd` (stdout), asynchronous and buffered as
 * pino's own default. A write that failed for anything but a closed pipe was re-emitted
 * by pino as an 'error' nobody listened to:
 * a log redirected to a file whose disk filled up (ENOSPC), or an I/O error, ended the
 * gateway with an uncaught exception, and then pino's exit hook tried the flush again
 * every 100 ms for as long as the write kept failing, the process neither serving nor
 * exiting. Now the lines are dropped (counted) for `retryMs`, then writing is tried
 * again; `resumed` is told how many were lost once a write goes through. A closed pipe
 * stops the writes for good, as pino does. A flush at exit while the writes fail is
 * skipped rather than retried for ever.
 */
export function logDestination(fd = 1, resumed?: LogResumed, retryMs = LOG_RETRY_MS): DestinationStream {
  const stream = destination({ dest: fd, sync: false, minLength: 0 }) as unknown as SonicBoomLike;
  const write = stream.write;
  const flushSync = stream.flushSync;
  let failing: string | undefined;
  let dropped = 0;
  let retry: NodeJS.Timeout | undefined;
  const drop = (): boolean => {
    dropped++;
    return true;
  };
  let gone = false;
  stream.on('error', (err) => {
    // Told twice at the first failure (pino's own listener passes it on): once is enough.
    if (retry !== undefined || gone) return;
    failing = err.code ?? err.message;
    stream.write = drop;
    // Nobody reads the pipe any more, and nobody will: nothing is written from now on (as pino does).
    if (err.code === 'EPIPE') {
      gone = true;
      return;
    }
    retry = setTimeout(() => {
      retry = undefined;
      stream.write = write;
    }, retryMs);
    retry.unref();
  });
  stream.on('write', () => {
    if (failing === undefined) return;
    const lost = dropped;
    const cause = failing;
    failing = undefined;
    dropped = 0;
    if (lost > 0) resumed?.(lost, cause);
  });
  stream.flushSync = function flushUnlessFailing(this: SonicBoomLike): void {
    if (failing === undefined) flushSync.call(this);
  };
  return stream;
}
