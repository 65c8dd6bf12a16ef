import { MAX_FIELD_LENGTHS, integer, text, type HistoryColumns } from './history-columns.js';
import type { TargetRedactor } from './query-redaction.js';
import { StringInterner } from './string-interner.js';
import type { RequestRecord } from './store.js';

/** Rows made room for at first; the columns double from there as needed. */
const INITIAL_CAPACITY = 1024;
/** Distinct values remembered per interned field (see StringInterner). */
const INTERNED_VALUES = 1024;
/** Paths longer than this are kept as given: long ones are rarely repeated, and hashing them costs. */
const INTERNED_PATH_LENGTH = 256;

/**
 * Request records kept as columns instead of objects, so that the ones waiting
 * for the next history flush (a few thousand under load) are not a few
 * thousand objects, each with boxed numbers, that survive the young
 * generation's scavenges and get promoted. Numbers go into typed arrays
 * allocated once and reused; text into plain arrays, where the app, method,
 * client and path strings are interned (one string object per distinct value,
 * already old) so the proxy's per-request copies die young. `push` copies
 * what the history keeps and holds no reference to the record.
 *
 * A row is stored as the history writes it: text truncated to
 * MAX_FIELD_LENGTHS, integers rounded, NaN for a number that is missing
 * (NULL). The caller checks that a record has an app and a finite time first.
 */
export class RecordColumns {
  private count = 0;
  private capacity: number;
  private time: Float64Array;
  private status: Float64Array;
  private durationMs: Float64Array;
  private bytesIn: Float64Array;
  private bytesOut: Float64Array;
  private waited: Uint8Array;
  private app: string[] = [];
  private method: Array<string | null> = [];
  private path: Array<string | null> = [];
  private client: Array<string | null> = [];
  private instance: Array<string | null> = [];
  private readonly apps = new StringInterner(INTERNED_VALUES);
  private readonly methods = new StringInterner(INTERNED_VALUES);
  private readonly paths = new StringInterner(INTERNED_VALUES);
  private readonly clients = new StringInterner(INTERNED_VALUES);

  /**
   * `redact`: the path (request target) as the history keeps it, sensitive query values
   * replaced before it is interned or stored (query-redaction.ts). Default: as given.
   */
  constructor(initialCapacity = INITIAL_CAPACITY, private readonly redact?: TargetRedactor) {
    this.capacity = Math.max(1, initialCapacity);
    this.time = new Float64Array(this.capacity);
    this.status = new Float64Array(this.capacity);
    this.durationMs = new Float64Array(this.capacity);
    this.bytesIn = new Float64Array(this.capacity);
    this.bytesOut = new Float64Array(this.capacity);
    this.waited = new Uint8Array(this.capacity);
  }

  get length(): number {
    return this.count;
  }

  /** Appends one record's row (copied; `record` is not kept). */
  push(record: RequestRecord): void {
    if (this.count === this.capacity) this.grow(this.capacity * 2);
    const i = this.count++;
    this.time[i] = record.timeMs;
    this.status[i] = integer(record.status);
    this.durationMs[i] = Number.isFinite(record.durationMs) ? record.durationMs : Number.NaN;
    this.bytesIn[i] = integer(record.bytesIn);
    this.bytesOut[i] = integer(record.bytesOut);
    this.waited[i] = record.waited ? 1 : 0;
    this.app[i] = this.apps.intern(record.app);
    this.method[i] = internText(this.methods, record.method, MAX_FIELD_LENGTHS.method);
    const path = typeof record.path === 'string' && this.redact ? this.redact(record.path) : record.path;
    this.path[i] = typeof path === 'string' && path.length <= INTERNED_PATH_LENGTH ? this.paths.intern(path) : text(path, MAX_FIELD_LENGTHS.path);
    this.client[i] = internText(this.clients, record.client, MAX_FIELD_LENGTHS.client);
    this.instance[i] = text(record.instance, MAX_FIELD_LENGTHS.instance);
  }

  /** Appends rows `from`.. of a batch (already as the history writes them). */
  pushColumns(cols: HistoryColumns, from = 0): void {
    const n = cols.length - from;
    if (n <= 0) return;
    if (this.count + n > this.capacity) this.grow(Math.max(this.capacity * 2, this.count + n));
    this.copyIn(cols, from, this.count, n);
    this.count += n;
  }

  /** Puts rows `from`.. of a batch before the rows held now (a batch to retry ahead of newer records). */
  unshiftColumns(cols: HistoryColumns, from = 0): void {
    const n = cols.length - from;
    if (n <= 0) return;
    if (this.count + n > this.capacity) this.grow(Math.max(this.capacity * 2, this.count + n));
    for (const a of this.numeric()) a.copyWithin(n, 0, this.count);
    for (const a of this.texts()) {
      for (let i = this.count - 1; i >= 0; i--) a[i + n] = a[i]!;
    }
    this.copyIn(cols, from, 0, n);
    this.count += n;
  }

  /**
   * The rows held, as a batch of columns that owns its arrays (its typed
   * arrays' buffers can be transferred), and empties this. The columns'
   * own arrays are kept for the next rows; their text slots are cleared so
   * that no string outlives its batch here.
   */
  take(): HistoryColumns {
    const n = this.count;
    const cols: HistoryColumns = {
      length: n,
      time: this.time.slice(0, n),
      status: this.status.slice(0, n),
      durationMs: this.durationMs.slice(0, n),
      bytesIn: this.bytesIn.slice(0, n),
      bytesOut: this.bytesOut.slice(0, n),
      waited: this.waited.slice(0, n),
      app: this.app.slice(0, n),
      method: this.method.slice(0, n),
      path: this.path.slice(0, n),
      client: this.client.slice(0, n),
      instance: this.instance.slice(0, n),
    };
    for (const a of this.texts()) a.fill(null, 0, n);
    this.count = 0;
    return cols;
  }

  private copyIn(cols: HistoryColumns, from: number, at: number, n: number): void {
    this.time.set(cols.time.subarray(from, from + n), at);
    this.status.set(cols.status.subarray(from, from + n), at);
    this.durationMs.set(cols.durationMs.subarray(from, from + n), at);
    this.bytesIn.set(cols.bytesIn.subarray(from, from + n), at);
    this.bytesOut.set(cols.bytesOut.subarray(from, from + n), at);
    this.waited.set(cols.waited.subarray(from, from + n), at);
    for (let k = 0; k < n; k++) {
      this.app[at + k] = cols.app[from + k]!;
      this.method[at + k] = cols.method[from + k] ?? null;
      this.path[at + k] = cols.path[from + k] ?? null;
      this.client[at + k] = cols.client[from + k] ?? null;
      this.instance[at + k] = cols.instance[from + k] ?? null;
    }
  }

  private grow(capacity: number): void {
    const widen = <T extends Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(capacity);
      b.set(a);
      return b;
    };
    this.time = widen(this.time, (n) => new Float64Array(n));
    this.status = widen(this.status, (n) => new Float64Array(n));
    this.durationMs = widen(this.durationMs, (n) => new Float64Array(n));
    this.bytesIn = widen(this.bytesIn, (n) => new Float64Array(n));
    this.bytesOut = widen(this.bytesOut, (n) => new Float64Array(n));
    this.waited = widen(this.waited, (n) => new Uint8Array(n));
    this.capacity = capacity;
  }

  private numeric(): Array<Float64Array | Uint8Array> {
    return [this.time, this.status, this.durationMs, this.bytesIn, this.bytesOut, this.waited];
  }

  private texts(): Array<Array<string | null>> {
    return [this.app as Array<string | null>, this.method, this.path, this.client, this.instance];
  }
}

function internText(interner: StringInterner, value: unknown, max: number): string | null {
  if (typeof value !== 'string') return null;
  return value.length > max ? value.slice(0, max) : interner.intern(value);
}
