import type { HistoryColumns } from './history-columns.js';
import type { HistoryRetention } from './store.js';

/** What the writer thread is started with. */
export interface HistoryThreadData {
  path: string;
  busyTimeoutMs: number;
}

/** Main thread → writer thread. Replies come in the order of the requests. */
export type HistoryThreadRequest =
  | { id: number; op: 'append'; cols: HistoryColumns }
  | { id: number; op: 'prune'; retention: HistoryRetention; nowMs: number }
  | { id: number; op: 'close' };

/** Writer thread → main thread: `value` is the prune's count. */
export type HistoryThreadReply = { id: number; ok: true; value?: number } | { id: number; ok: false; error: string };

/**
 * How much nicer than the gateway the writer thread runs. A batch takes milliseconds of CPU (thousands of inserts, a
 * prune): on a core the proxy shares, at the same priority, the proxy's event loop
 * would wait for it and every request in flight would get those milliseconds added
 * (the tail of the gateway's latency). Lower, the kernel lets the proxy's wake-ups
 * preempt it; the history only lags a little behind under full load.
 */
export const HISTORY_THREAD_NICE = 5;
