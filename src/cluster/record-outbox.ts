import type { WireRecord } from './state-feed.js';

/** How often finished requests go to the control (history, metrics, accounting); sooner when RECORDS_BATCH are waiting. */
const RECORDS_EVERY_MS = 100;
const RECORDS_BATCH = 512;
/** Batches handed to the channel and not yet written to it: past this many, the control is not reading. */
const MAX_UNWRITTEN_BATCHES = 8;
/** Records a worker holds while its control does not read, as the history holds at most while its store is away. */
const MAX_HELD_RECORDS = 50_000;

export interface RecordOutboxOptions {
  /** Sends one batch; `written` is called once the channel took it (process.send's callback). */
  send: (records: WireRecord[], written: () => void) => void;
  /** Records began to be dropped (`dropping`), or went out again after `dropped` were lost. */
  onDrop?: (event: { dropping: true } | { dropping: false; dropped: number }) => void;
  everyMs?: number;
  batch?: number;
  maxHeld?: number;
  maxUnwritten?: number;
}

/**
 * A worker's finished requests on their way to the control, in batches. A
 * control that does not read (SIGSTOP, a blocked event loop) leaves its end of
 * the channel full, and every process.send after that was queued in this
 * worker's memory for as long as it lasted: under traffic, hundreds of MB a
 * minute, until the worker ran out of memory and took its connections with it.
 * Now at most a few batches wait in the channel; the rest are held here up to
 * `maxHeld` records, past which new ones are dropped and counted.
 */
export class RecordOutbox {
  private held: WireRecord[] = [];
  private unwritten = 0;
  private dropped = 0;
  private timer?: NodeJS.Timeout;
  /** A graceful close waits for everything held to be written (drain). */
  private drained?: () => void;
  private readonly everyMs: number;
  private readonly batch: number;
  private readonly maxHeld: number;
  private readonly maxUnwritten: number;

  constructor(private readonly options: RecordOutboxOptions) {
    this.everyMs = options.everyMs ?? RECORDS_EVERY_MS;
    this.batch = options.batch ?? RECORDS_BATCH;
    this.maxHeld = options.maxHeld ?? MAX_HELD_RECORDS;
    this.maxUnwritten = options.maxUnwritten ?? MAX_UNWRITTEN_BATCHES;
  }

  /** Records held here, not yet handed to the channel. */
  get heldCount(): number {
    return this.held.length;
  }

  add(record: WireRecord): void {
    if (this.held.length >= this.maxHeld) {
      if (this.dropped++ === 0) this.options.onDrop?.({ dropping: true });
      return;
    }
    this.held.push(record);
    if (this.held.length >= this.batch) this.flush();
    else this.arm();
  }

  /** Hands what is held to the channel, as far as the control reads. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.held.length > 0 && this.unwritten < this.maxUnwritten) {
      const batch = this.held.length <= this.batch ? this.held : this.held.slice(0, this.batch);
      this.held = batch === this.held ? [] : this.held.slice(this.batch);
      this.unwritten++;
      this.options.send(batch, () => this.written());
    }
  }

  /**
   * A graceful close: hands over everything held, a few batches at a time as
   * the channel takes them, and resolves once all are written. One flush hands
   * over at most `maxUnwritten` batches (~4,000 records), and a worker closing
   * after its control did not read for a while holds up to `maxHeld`: the rest
   * were lost with the worker, and the history must keep every request. A
   * control that never reads again never resolves this: the pool kills a worker
   * that outlives its grace.
   */
  drain(): Promise<void> {
    const done = new Promise<void>((resolve) => (this.drained = resolve));
    this.flush();
    this.settleDrain();
    return done;
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private written(): void {
    this.unwritten--;
    if (this.dropped > 0 && this.unwritten === 0) {
      this.options.onDrop?.({ dropping: false, dropped: this.dropped });
      this.dropped = 0;
    }
    // Draining: the next batches at once, not after the interval.
    if (this.drained) this.flush();
    else if (this.held.length > 0) this.arm();
    this.settleDrain();
  }

  private settleDrain(): void {
    if (!this.drained || this.held.length > 0 || this.unwritten > 0) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.drained();
    this.drained = undefined;
  }

  private arm(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.everyMs);
    this.timer.unref();
  }
}
