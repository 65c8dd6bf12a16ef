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
