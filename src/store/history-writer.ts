import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { StoreError, type BerthError } from '../errors.js';
import { threadLackedDescriptors } from '../net/fd-limit.js';
import { recordsOf, toColumns, transferables, type HistoryColumns } from './history-columns.js';
import { toWire, type HistoryThreadData, type HistoryThreadReply, type HistoryThreadRequest } from './history-thread-wire.js';
import { storeMovedError, storeRunError, type FileId } from './sqlite-errors.js';
import type { HistoryRetention, RequestRecord } from './store.js';

/**
 * How the SQLite store writes and prunes the request history: on its own
 * connection in-process, or through a writer thread. (A PostgreSQL store would
 * implement the HistoryStore interface its own way; this is SQLite's.)
 */
export interface HistoryWriter {
  append(records: readonly RequestRecord[]): Promise<void>;
  /** A batch already in columns, checked and truncated; left as it is (see HistoryStore.appendColumns). Without it, `append` gets the records again. */
  appendColumns?(cols: HistoryColumns): Promise<void>;
  prune(retention: HistoryRetention, nowMs: number): Promise<number>;
  close(): Promise<void>;
}

/** Writes a batch of columns through whichever of its two appends `writer` has. */
export function appendColumnsTo(writer: HistoryWriter, cols: HistoryColumns): Promise<void> {
  return writer.appendColumns ? writer.appendColumns(cols) : writer.append(recordsOf(cols));
}

export interface ThreadHistoryWriterOptions {
  /** The store file (not ':memory:', which another connection cannot see). */
  path: string;
  /** The file as the main connection opened it: the thread neither makes nor writes another at the path. */
  fileId?: FileId;
  busyTimeoutMs: number;
  /** Writes in-process; used once the thread has crashed too often. */
  fallback: HistoryWriter;
  logger?: Logger;
  /** Crashes within `crashWindowMs` after which the thread is given up for the fallback. Default 3 in 60 s. */
  maxCrashes?: number;
  crashWindowMs?: number;
}

/**
 * After a thread could not start for want of file descriptors, batches are written
 * in-process (on the connection already open) this long before a thread is tried again.
 */
const NO_DESCRIPTORS_PAUSE_MS = 1_000;

/** The compiled thread, beside this module in dist/src/store/ (resolved from the module itself, wherever berth is installed). */
const THREAD_URL = new URL('./history-thread.js', import.meta.url);

interface Pending {
  what: string;
  resolve: (value: number) => void;
  reject: (err: Error) => void;
}

/**
 * Sends history batches, as columns, to a worker thread that owns its own
 * SQLite connection: the main thread pays a structured clone per batch instead
 * of the inserts, the transaction and its fsync. A thread that dies is logged;
 * what it had not answered fails (the buffer counts those records as dropped,
 * as for any failed write), and the next call starts a new one. After
 * `maxCrashes` within `crashWindowMs` the fallback (in-process) takes over for
 * good: the gateway never ends over its history.
 */
export class ThreadHistoryWriter implements HistoryWriter {
  private worker?: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private crashes: number[] = [];
  private fellBack = false;
  private closed = false;
  /** The thread that could not start for want of descriptors, and until when batches go in-process. */
  private noDescriptors?: Worker;
  private pausedUntilMs = 0;
  /** Said once per shortage of descriptors, not once per batch. */
  private shortageLogged = false;

  constructor(private readonly options: ThreadHistoryWriterOptions) {}

  /** True once the thread was given up and the fallback writes. */
  get inProcess(): boolean {
    return this.fellBack;
  }

  /** Given up for good, closed, or paused while the process is out of descriptors: the fallback writes. */
  private get viaFallback(): boolean {
    return this.fellBack || this.closed || performance.now() < this.pausedUntilMs;
  }

  async append(records: readonly RequestRecord[]): Promise<void> {
    if (records.length === 0) return;
    if (this.viaFallback) return this.options.fallback.append(records);
    const cols = toColumns(records);
    const { wire, transfer } = toWire(cols);
    await this.call(`record ${records.length} request(s)`, { id: 0, op: 'append', cols: wire }, [...transferables(cols), ...transfer]);
  }

  /**
   * Posted without transferring the batch's own buffers: the caller may retry the batch or
   * read it afterwards. Cloning a few typed arrays of a few thousand numbers costs
   * microseconds; the text goes as codes (toWire), whose buffers are transferred.
   */
  async appendColumns(cols: HistoryColumns): Promise<void> {
    if (cols.length === 0) return;
    if (this.viaFallback) return appendColumnsTo(this.options.fallback, cols);
    const { wire, transfer } = toWire(cols);
    await this.call(`record ${cols.length} request(s)`, { id: 0, op: 'append', cols: wire }, transfer);
  }

  prune(retention: HistoryRetention, nowMs: number): Promise<number> {
    if (this.viaFallback) return this.options.fallback.prune(retention, nowMs);
    return this.call('prune the history', { id: 0, op: 'prune', retention, nowMs });
  }

  /** Waits for what was asked, then ends the thread (its connection closed cleanly). */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    await this.call('close the history writer', { id: 0, op: 'close' }).catch(() => undefined);
    // Held until it is gone, so a process that is otherwise done waits for the clean close.
    worker.ref();
    await exited;
  }

  /** For tests: ends the thread the way a crash would. */
  async kill(): Promise<void> {
    await this.worker?.terminate();
  }

  private call(what: string, request: HistoryThreadRequest, transfer: ArrayBuffer[] = []): Promise<number> {
    const worker = this.worker ?? this.spawn();
    const id = this.nextId++;
    return new Promise<number>((resolve, reject) => {
      // Referenced only while it owes an answer: an idle writer never keeps the process alive.
      if (this.pending.size === 0) worker.ref();
      this.pending.set(id, { what, resolve, reject });
      worker.postMessage({ ...request, id }, transfer);
    });
  }

  private spawn(): Worker {
    const worker = new Worker(THREAD_URL, { workerData: { path: this.options.path, fileId: this.options.fileId, busyTimeoutMs: this.options.busyTimeoutMs } satisfies HistoryThreadData });
    worker.unref();
    worker.on('message', (reply: HistoryThreadReply) => this.answer(worker, reply));
    worker.on('error', (err) => {
      if (threadLackedDescriptors(err)) this.noDescriptors = worker;
      else this.options.logger?.error({ err: err.message }, 'the history writer thread failed');
    });
    worker.on('online', () => (this.shortageLogged = false));
    worker.on('exit', (code) => this.exited(worker, code));
    this.worker = worker;
    return worker;
  }

  private answer(worker: Worker, reply: HistoryThreadReply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) worker.unref();
    if (reply.ok) pending.resolve(reply.value ?? 0);
    else pending.reject(threadFailure(this.options.path, pending.what, reply));
  }

  private exited(worker: Worker, code: number): void {
    if (worker !== this.worker) return;
    this.worker = undefined;
    const lost = [...this.pending.values()];
    this.pending.clear();
    if (this.noDescriptors === worker) {
      // Not a crash: counted as one, a few seconds out of descriptors gave the thread up for good.
      this.noDescriptors = undefined;
      this.pausedUntilMs = performance.now() + NO_DESCRIPTORS_PAUSE_MS;
      for (const p of lost) p.reject(new StoreError(`store at ${this.options.path}: cannot ${p.what}: the history writer thread could not start (out of file descriptors)`));
      if (!this.shortageLogged) this.options.logger?.warn({ unanswered: lost.length }, 'the history writer thread could not start (out of file descriptors); the history is written in-process until it can');
      this.shortageLogged = true;
      return;
    }
    for (const p of lost) p.reject(new StoreError(`store at ${this.options.path}: cannot ${p.what}: the history writer thread ended (code ${code})`));
    if (this.closed) return;
    // Monotonic: a wall clock stepped forward between two crashes made them look an hour apart.
    const now = performance.now();
    const window = this.options.crashWindowMs ?? 60_000;
    this.crashes = [...this.crashes.filter((t) => now - t < window), now];
    if (this.crashes.length >= (this.options.maxCrashes ?? 3)) {
      this.fellBack = true;
      this.options.logger?.error({ code, crashes: this.crashes.length }, 'the history writer thread keeps ending; the history is written in-process from now on');
    } else {
      this.options.logger?.error({ code, unanswered: lost.length }, 'the history writer thread ended; a new one starts with the next batch');
    }
  }
}

/**
 * The thread's failure as the main side's own would be: the same refusal for a moved file, and
 * the SQLite code classified alike (storeRunError), so a full disk or a lock held elsewhere is
 * 503 store_unavailable and logged as such, not a store_error. Pure.
 */
export function threadFailure(path: string, what: string, reply: Extract<HistoryThreadReply, { ok: false }>): BerthError {
  if (reply.moved) return storeMovedError(path, what);
  return storeRunError(path, what, Object.assign(new Error(reply.error), reply.code === undefined ? {} : { code: reply.code }));
}
