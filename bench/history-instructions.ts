/**
 * A fixed number of request records through the request history as `berth serve` keeps it
 * (HistoryBuffer.record on the main thread; batches of columns posted to the writer thread,
 * which inserts them into a SQLite store), and nothing else: the process to run under
 * callgrind, twice, to count the history's instructions per request.
 *
 *   node dist/bench/history-instructions.js --requests 20000 [--batch 4000] [--sink thread|none] [--dir DIR]
 *   valgrind --tool=callgrind --separate-threads=yes node dist/bench/history-instructions.js --requests 60000
 *
 * (instructions at 3N − instructions at N) / 2N is the cost of one record: start-up, the
 * schema and the JIT's warm-up are in both runs and cancel out. `--batch` is the rows per
 * flush (a gateway at ~16,000 req/s flushes every 250 ms: ~4,000). `--sink none` keeps the
 * main thread's part alone (the batch is taken and dropped); `thread` (default) writes it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { HistoryBuffer } from '../src/store/history-buffer.js';
import type { HistoryColumns } from '../src/store/history-columns.js';
import { queryRedactor } from '../src/store/query-redaction.js';
import { SqliteStore } from '../src/store/sqlite-store.js';
import type { HistoryStore, RequestRecord } from '../src/store/store.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] ?? fallback : fallback;
}

const requests = Number(arg('--requests', '20000'));
const batch = Number(arg('--batch', '4000'));
const sink = arg('--sink', 'thread');

/** What the bench's wrk sends through berth serve: one app, one path, one client, one instance. */
function recordAt(i: number): RequestRecord {
  return {
    timeMs: 1_800_000_000_000 + Math.floor(i / 16),
    app: 'bench',
    method: 'GET',
    path: '/session/bench/',
    status: 200,
    durationMs: 0.8 + (i % 7) / 10,
    bytesIn: 0,
    bytesOut: 3,
    client: '127.0.0.1',
    waited: false,
    instance: 'berth-bench-1',
  };
}

/** A store that takes the batch and keeps nothing: the main thread's part alone. */
const dropping: HistoryStore = {
  appendRequests: async () => undefined,
  appendColumns: async (_cols: HistoryColumns) => undefined,
  queryRequests: async () => ({ items: [] }),
  pruneRequests: async () => 0,
};

async function main(): Promise<void> {
  const dir = mkdtempSync(join(arg('--dir', tmpdir()), 'berth-history-instr-'));
  const store = sink === 'none' ? undefined : new SqliteStore({ path: join(dir, 'berth.db') });
  await store?.open();
  const history = new HistoryBuffer({
    store: store ?? dropping,
    retention: { maxRecords: Number.POSITIVE_INFINITY, maxAgeMs: Number.POSITIVE_INFINITY },
    maxBuffered: Math.max(batch, 1) * 2,
    redactTarget: queryRedactor(),
    logger: pino({ level: 'warn' }, process.stderr),
  });
  try {
    for (let i = 0; i < requests; i++) {
      // A fresh record per request, as the proxy makes one.
      history.record(recordAt(i));
      if ((i + 1) % batch === 0) await history.flush();
    }
    await history.close();
    if (history.dropped > 0) throw new Error(`${history.dropped} record(s) dropped`);
  } finally {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`history-instructions: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
