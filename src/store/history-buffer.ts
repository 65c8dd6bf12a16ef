import type { Logger } from 'pino';
import { BerthError, messageOf } from '../errors.js';
import { recordsOf, type HistoryColumns } from './history-columns.js';
import type { TargetRedactor } from './query-redaction.js';
import { RecordColumns } from './record-columns.js';
import type { HistoryRetention, HistoryStore, RequestRecord } from './store.js';

export interface HistoryBufferOptions {
  store: HistoryStore;
  retention: HistoryRetention;
  /** How often buffered records are written, in one transaction. Default 250 ms. */
  flushEveryMs?: number;
  /** Records held between flushes; beyond this they are dropped, counted and logged. Default 50 000 (a few seconds of a busy gateway). */
  maxBuffered?: number;
  logger?: Logger;
  /** How often the retention is applied. Default 1 minute. */
  pruneEveryMs?: number;
  /** Told about each batch once it is written (the live `request` events); must not throw nor keep it. */
  onWritten?: (batch: HistoryColumns) => void;
  /**
   * The request target as the history keeps it (queryRedactor: sensitive query values
   * replaced); applied as a record is copied, so nothing after it sees the secret. Default: as sent.
   */
  redactTarget?: TargetRedactor;
}

/**
 * Keeps request records off the proxy's hot path: record() only copies the record
 * into columns (RecordColumns: no object per record survives to the next
 * scavenge), and a timer writes what has gathered as one batch. Memory is bounded: while the
 * store cannot keep up (or is failing), records beyond maxBuffered are dropped and
 * counted rather than queued. A batch the store refuses is dropped too (and logged),
 * so one bad moment of the disk never turns into a backlog.
 */
export class HistoryBuffer {
  private readonly store: HistoryStore;
  private readonly retention: HistoryRetention;
  private readonly flushEveryMs: number;
  private readonly maxBuffered: number;
  private readonly pruneEveryMs: number;
  private readonly logger?: Logger;
  private readonly onWritten?: (batch: HistoryColumns) => void;
  private readonly buffer: RecordColumns;
  private droppedCount = 0;
  /** Dropping because the store falls behind (the buffer is full): logged once per episode. */
  private overflowing = false;
  private closed = false;
  private failing = false;
  private flushTimer?: NodeJS.Timeout;
  private pruneTimer?: NodeJS.Timeout;
  /** The latest flush; each flush starts after the one before it. */
  private flushing: Promise<void> = Promise.resolve();
  private flushPending = false;
  private pruning?: Promise<number>;

  constructor(options: HistoryBufferOptions) {
    this.store = options.store;
    this.retention = options.retention;
    this.flushEveryMs = options.flushEveryMs ?? 250;
    this.onWritten = options.onWritten;
    this.maxBuffered = options.maxBuffered ?? 50_000;
    this.pruneEveryMs = options.pruneEveryMs ?? 60_000;
    this.logger = options.logger;
    this.buffer = new RecordColumns(Math.min(this.maxBuffered, 1024), options.redactTarget);
  }

  /** Records dropped so far: over maxBuffered, without an app or a valid time, refused by the store, or after close(). */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Records waiting for the next flush. */
  get buffered(): number {
    return this.buffer.length;
  }

  /** O(1), amortised; never throws. Copies what the history keeps: `record` itself is not held. */
  record(record: RequestRecord): void {
    if (this.closed || this.buffer.length >= this.maxBuffered || !isRecordable(record)) {
      this.droppedCount += 1;
      if (!this.overflowing && !this.closed && this.buffer.length >= this.maxBuffered && !this.failing) {
        this.overflowing = true;
        this.logger?.warn({ held: this.buffer.length }, 'the request history cannot keep up with the requests; records are dropped until it catches up');
      }
      return;
    }
    this.buffer.push(record);
  }

  /** Starts the flush and prune timers (neither keeps the process alive); prunes once right away. */
  start(): void {
    if (this.closed || this.flushTimer) return;
    this.flushTimer = setInterval(() => {
      // A slow store must not pile up flushes: one at a time, the next picks up the rest.
      if (!this.flushPending && this.buffer.length > 0) void this.flush();
    }, this.flushEveryMs);
    this.flushTimer.unref();
    this.pruneTimer = setInterval(() => void this.prune(), this.pruneEveryMs);
    this.pruneTimer.unref();
    void this.prune();
  }

  /** Writes everything recorded so far; resolves when written or, on failure, logged and dropped. Never rejects. */
  flush(): Promise<void> {
    this.flushPending = true;
    const run = this.flushing.then(() => this.writeBuffered());
    this.flushing = run;
    return run;
  }

  /** Applies the retention now; returns how many records went (0 when it failed, which is logged). Never rejects. */
  prune(): Promise<number> {
    if (this.pruning) return this.pruning;
    const run = this.store
      .pruneRequests(this.retention, new Date())
      .then((deleted) => {
        if (deleted > 0) this.logger?.debug({ deleted }, 'request history pruned');
        return deleted;
      })
      .catch((err: unknown) => {
        this.logger?.error({ err: messageOf(err) }, 'cannot prune the request history');
        return 0;
      })
      .finally(() => {
        this.pruning = undefined;
      });
    this.pruning = run;
    return run;
  }

  /**
   * Stops the timers, waits for a prune under way and writes what is left. Later
   * records are dropped. After it resolves the buffer no longer touches the store,
   * which can then be closed.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.flushTimer);
    clearInterval(this.pruneTimer);
    await this.pruning;
    await this.flush();
  }

  private async writeBuffered(): Promise<void> {
    this.flushPending = false;
    if (this.buffer.length === 0) return;
    const batch = this.buffer.take();
    try {
      if (this.store.appendColumns) await this.store.appendColumns(batch);
      else await this.store.appendRequests(recordsOf(batch));
      this.onWritten?.(batch);
      if (this.failing) this.logger?.info({ dropped: this.droppedCount }, 'request history is being written again');
      else if (this.overflowing && this.buffer.length < this.maxBuffered / 2) {
        this.overflowing = false;
        this.logger?.info({ dropped: this.droppedCount }, 'the request history has caught up');
      }
      this.failing = false;
    } catch (err) {
      // The store out of reach (a shared database restarting) keeps the batch for the next try, within maxBuffered;
      // a store that refuses the batch itself would refuse it again: that one is dropped.
      const from = !this.closed && isOutage(err) ? Math.max(0, batch.length + this.buffer.length - this.maxBuffered) : batch.length;
      const kept = batch.length - from;
      if (kept > 0) this.buffer.unshiftColumns(batch, from);
      this.droppedCount += from;
      // Logged once per outage, not every 250 ms while the store stays down.
      if (!this.failing) {
        if (kept > 0) this.logger?.warn({ err: messageOf(err), held: this.buffer.length }, 'cannot reach the store; the request history is held in memory until it is back');
        else this.logger?.error({ err: messageOf(err), lost: batch.length }, 'cannot write the request history; records are dropped until it recovers');
      }
      this.failing = true;
    }
  }
}

function isOutage(err: unknown): boolean {
  return err instanceof BerthError && err.code === 'store_unavailable';
}

/** What the store needs to keep a record at all; checked here so one bad record cannot fail a whole batch. */
function isRecordable(record: RequestRecord): boolean {
  return (
    typeof record === 'object' &&
    record !== null &&
    typeof record.app === 'string' &&
    record.app !== '' &&
    typeof record.timeMs === 'number' &&
    Number.isFinite(record.timeMs)
  );
}
