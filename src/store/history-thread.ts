// The request history's writer thread: its own SQLite connection to the store
// file, fed batches of columns by HistoryThreadWriter, so inserts, fsyncs, WAL
// checkpoints and prunes all run off the gateway's event loop.
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { messageOf } from '../errors.js';
import { pruneHistory } from './history-prune.js';
import { currentFileId, storeFileMoved } from './sqlite-errors.js';
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
const { path, fileId, busyTimeoutMs } = workerData as HistoryThreadData;

type Failure = Extract<HistoryThreadReply, { ok: false }>;

/** A failure as it crosses to the main thread: the text, and the SQLite code when there is one. */
function failure(id: number, err: unknown): Failure {
  const code = (err as { code?: unknown } | null)?.code;
  return { id, ok: false, error: messageOf(err), ...(typeof code === 'string' ? { code } : {}) };
}

// The main connection made the file, its schema and WAL mode (persistent); busy_timeout and
// synchronous are per connection, so they are set here again: a write waits for the other
// connection's lock instead of failing, and every commit is as durable as the main one's.
// fileMustExist: a thread started after the file was deleted would make an empty one at the
// path (a store with no apps, for the next start to read). Not opened (or a lock met while
// opening): each request tries again, or is answered with why; the thread stays, so the writer
// does not count crashes over a trouble of the store's surroundings.
type Opened = { db: Database.Database; history: ReturnType<typeof prepareHistory> } | { error: unknown };
function open(): Opened {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { timeout: busyTimeoutMs, fileMustExist: fileId !== undefined });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    return { db, history: prepareHistory(db) };
  } catch (err) {
    db?.close();
    return { error: err };
  }
}
let opened = open();
let pruning: Promise<unknown> = Promise.resolve();

const reply = (message: HistoryThreadReply) => port.postMessage(message);

/** Why request `id` cannot be written now: the file gone or replaced (one stat), or not opened; undefined when it can. */
function refusal(id: number): Failure | undefined {
  if (fileId && storeFileMoved(fileId, currentFileId(path))) return { id, ok: false, error: 'the store file was deleted or replaced', moved: true };
  if ('error' in opened) opened = open();
  if ('error' in opened) return failure(id, opened.error);
  return undefined;
}

port.on('message', (request: HistoryThreadRequest) => {
  if (request.op === 'close') {
    // Everything asked before is answered (a prune under way finishes), then the thread ends.
    void pruning.then(() => {
      if ('db' in opened) opened.db.close();
      reply({ id: request.id, ok: true });
      port.close();
    });
    return;
  }
  const refused = refusal(request.id);
  if (refused || !('history' in opened)) {
    reply(refused ?? failure(request.id, new Error('not open')));
    return;
  }
  const { history } = opened;
  if (request.op === 'append') {
    // Synchronous: appends keep their order, and run between a prune's chunks.
    try {
      history.appendColumns(fromWire(request.cols));
      reply({ id: request.id, ok: true });
    } catch (err) {
      reply(failure(request.id, err));
    }
  } else {
    const run = pruneHistory(history, request.retention, request.nowMs);
    pruning = run.catch(() => undefined);
    run.then(
      (value) => reply({ id: request.id, ok: true, value }),
      (err: unknown) => reply(failure(request.id, err)),
    );
  }
});
