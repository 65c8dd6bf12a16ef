import type { HistoryColumns } from './history-columns.js';
import type { FileId } from './sqlite-errors.js';
import type { HistoryRetention } from './store.js';

/** What the writer thread is started with. */
export interface HistoryThreadData {
  path: string;
  /** The file the main connection opened: the thread writes only while the path still names it. */
  fileId?: FileId;
  busyTimeoutMs: number;
}

/** Main thread → writer thread. Replies come in the order of the requests. */
export type HistoryThreadRequest =
  | { id: number; op: 'append'; cols: WireColumns }
  | { id: number; op: 'prune'; retention: HistoryRetention; nowMs: number }
  | { id: number; op: 'close' };

/**
 * Writer thread → main thread: `value` is the prune's count. A failure carries the SQLite
 * result code (an Error crosses as text only), so the main side classifies it as it does its
 * own (storeRunError: a full disk or a held lock is 503 store_unavailable, not store_error);
 * `moved`: the store file was deleted or replaced, nothing was written.
 */
export type HistoryThreadReply =
  | { id: number; ok: true; value?: number }
  | { id: number; ok: false; error: string; code?: string; moved?: boolean };

/**
 * How much nicer than the gateway the writer thread runs. A batch takes milliseconds of CPU (thousands of inserts, a
 * prune): on a core the proxy shares, at the same priority, the proxy's event loop
 * would wait for it and every request in flight would get those milliseconds added
 * (the tail of the gateway's latency). Lower, the kernel lets the proxy's wake-ups
 * preempt it; the history only lags a little behind under full load.
 */
export const HISTORY_THREAD_NICE = 5;

/** The text columns of a batch. */
type TextColumn = 'app' | 'method' | 'path' | 'client' | 'instance';
const TEXT_COLUMNS: readonly TextColumn[] = ['app', 'method', 'path', 'client', 'instance'];

/**
 * A batch as it is posted to the writer thread: each text column as codes into `texts`
 * (0: NULL, n: texts[n - 1]). A structured clone writes every string it meets, and the
 * thread made a new string of each, so a batch of thousands of rows that name the same
 * app, method, client and instance (and mostly the same few paths) was tens of thousands
 * of strings serialised and allocated again; now it is each distinct value once and five
 * typed arrays, which are transferred.
 */
export type WireColumns = Omit<HistoryColumns, TextColumn> & { readonly texts: string[] } & { readonly [K in TextColumn]: Uint32Array };

/** `cols` for the wire, and the buffers to transfer with it (the codes': made here, owned by nobody else). */
export function toWire(cols: HistoryColumns): { wire: WireColumns; transfer: ArrayBuffer[] } {
  const texts: string[] = [];
  const codes = new Map<string, number>();
  const n = cols.length;
  const encode = (column: ReadonlyArray<string | null>): Uint32Array => {
    const out = new Uint32Array(n);
    // Runs of one value are the rule (one app, method, client and instance under load, each
    // the buffer's interned string): a row like the one before takes its code without hashing.
    let last: string | undefined;
    let lastCode = 0;
    for (let i = 0; i < n; i++) {
      const value = column[i];
      if (value === null || value === undefined) continue;
      if (value !== last) {
        let code = codes.get(value);
        if (code === undefined) {
          code = texts.push(value);
          codes.set(value, code);
        }
        last = value;
        lastCode = code;
      }
      out[i] = lastCode;
    }
    return out;
  };
  const wire: WireColumns = {
    length: n,
    time: cols.time,
    status: cols.status,
    durationMs: cols.durationMs,
    bytesIn: cols.bytesIn,
    bytesOut: cols.bytesOut,
    waited: cols.waited,
    texts,
    app: encode(cols.app),
    method: encode(cols.method),
    path: encode(cols.path),
    client: encode(cols.client),
    instance: encode(cols.instance),
  };
  return { wire, transfer: TEXT_COLUMNS.map((c) => wire[c].buffer as ArrayBuffer) };
}

/** The batch again, on the thread: every row's text is the one string the wire carried for it. */
export function fromWire(wire: WireColumns): HistoryColumns {
  const texts = wire.texts;
  const decode = (codes: Uint32Array): Array<string | null> => {
    const out = new Array<string | null>(codes.length);
    for (let i = 0; i < codes.length; i++) {
      const code = codes[i]!;
      out[i] = code === 0 ? null : texts[code - 1]!;
    }
    return out;
  };
  return {
    length: wire.length,
    time: wire.time,
    status: wire.status,
    durationMs: wire.durationMs,
    bytesIn: wire.bytesIn,
    bytesOut: wire.bytesOut,
    waited: wire.waited,
    app: decode(wire.app) as string[],
    method: decode(wire.method),
    path: decode(wire.path),
    client: decode(wire.client),
    instance: decode(wire.instance),
  };
}
