// The request history's writer thread: its own SQLite connection to the store
// file, fed batches of columns by HistoryThreadWriter, so inserts, fsyncs, WAL
// checkpoints and prunes all run off the gateway's event loop.
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { messageOf } from '../errors.js';
import { pruneHistory } from './history-prune.js';
import { prepareHistory } from './history-rows.js';
import { HISTORY_THREAD_NICE, fromWire, type HistoryThreadData, type HistoryThreadReply, type HistoryThreadRequest } from './history-thread-wire.js';

/** Lowers this thread's priority by HISTORY_THREAD_NICE (Linux: setpriority on its own thread id); best effort elsewhere. */
function lowerOwnPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isSafeInteger(tid) && tid > 0) setPriority(tid, Math.min(19, getPriority(tid) + HISTORY_THREAD_NICE));
  } catch {
    // No /proc, or not allowed: the writer runs at the gateway's priority, as before.
  }
}

lowerOwnPriority();
const port = parentPort!;
const { path, busyTimeoutMs } = workerData as HistoryThreadData;
// The main connection made the file, its schema and WAL mode (persistent); busy_timeout and
// synchronous are per connection, so they are set here again: a write waits for the other
// connection's lock instead of failing, and every commit is as durable as the main one's.
const db = new Database(path, { timeout: busyTimeoutMs });
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
const history = prepareHistory(db);
let pruning: Promise<unknown> = Promise.resolve();

const reply = (message: HistoryThreadReply) => port.postMessage(message);

port.on('message', (request: HistoryThreadRequest) => {
  if (request.op === 'append') {
    // Synchronous: appends keep their order, and run between a prune's chunks.
    try {
      history.appendColumns(fromWire(request.cols));
      reply({ id: request.id, ok: true });
    } catch (err) {
      reply({ id: request.id, ok: false, error: messageOf(err) });
    }
  } else if (request.op === 'prune') {
    const run = pruneHistory(history, request.retention, request.nowMs);
    pruning = run.catch(() => undefined);
    run.then(
      (value) => reply({ id: request.id, ok: true, value }),
      (err: unknown) => reply({ id: request.id, ok: false, error: messageOf(err) }),
    );
  } else {
    // Everything asked before is answered (a prune under way finishes), then the thread ends.
    void pruning.then(() => {
      db.close();
      reply({ id: request.id, ok: true });
      port.close();
    });
  }
});
