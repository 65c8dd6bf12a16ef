import { doublingDelayMs } from '../backoff.js';

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5_000;
/** How long a stream must have stayed open to count as having worked, so the next break is retried quickly again. */
const STEADY_MS = 5_000;

/**
 * When to reopen an engine event stream: after a wait doubling from 250 ms to 5 s, so a
 * dead engine is not hammered. Only a stream that served a while restarts it: one the
 * engine answers and ends at once (a proxy's page, an engine shutting down) would
 * otherwise be reopened four times a second for good.
 */
export class StreamBackoff {
  private step = 0;

  /** The wait before reopening a stream that stayed open `servedMs` (undefined: it never opened); `steady` when it had worked. */
  next(servedMs: number | undefined): { waitMs: number; steady: boolean } {
    const steady = servedMs !== undefined && servedMs >= STEADY_MS;
    if (steady) this.step = 0;
    return { waitMs: doublingDelayMs(this.step++, FIRST_RETRY_MS, MAX_RETRY_MS), steady };
  }
}
