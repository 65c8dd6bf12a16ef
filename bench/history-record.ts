/**
 * Nanoseconds per request record on the history's hot path (the copy into columns that
 * HistoryBuffer.record makes), without and with the query redaction
 * (src/store/query-redaction.ts), for targets without a query, with a query holding no
 * sensitive name, and with a token; and the redaction alone. The columns are made room for
 * first, so growth is not measured. `node dist/bench/history-record.js` prints a table.
 */
import { queryRedactor, type TargetRedactor } from '../src/store/query-redaction.js';
import { RecordColumns } from '../src/store/record-columns.js';
import type { RequestRecord } from '../src/store/store.js';

const ROWS = 100_000;
const ROUNDS = 9;

function records(kind: 'no query' | 'plain query' | 'token query'): RequestRecord[] {
  return Array.from({ length: 1024 }, (_, i) => ({
    timeMs: 1_700_000_000_000 + i,
    app: `app-${i % 16}`,
    method: 'GET',
    path:
      kind === 'no query'
        ? `/session/app-${i % 16}/api/items/${i}`
        : kind === 'plain query'
          ? `/session/app-${i % 16}/api/items?page=${i}&sort=name&q=x`
          : `/session/app-${i % 16}/api/items?page=${i}&access_token=eyJhbGciOi.${i}.sig&sort=name`,
    status: 200,
    durationMs: 1.25,
    bytesIn: 0,
    bytesOut: 512,
    client: '127.0.0.1',
    waited: false,
  }));
}

/** The least over ROUNDS (the machine is shared: the least is the least disturbed) of ns per push of ROWS records into columns with room for them. */
function nsPerRow(batch: RequestRecord[], redact: TargetRedactor | undefined): number {
  const times: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const columns = new RecordColumns(ROWS, redact);
    const started = process.hrtime.bigint();
    for (let i = 0; i < ROWS; i++) columns.push(batch[i & 1023]!);
    times.push(Number(process.hrtime.bigint() - started) / ROWS);
  }
  return Math.min(...times);
}

/** The least over ROUNDS (the machine is shared: the least is the least disturbed) of ns per redaction alone. */
function nsPerRedaction(batch: RequestRecord[], redact: TargetRedactor): number {
  const times: number[] = [];
  let kept = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < ROWS; i++) kept += redact(batch[i & 1023]!.path).length;
    times.push(Number(process.hrtime.bigint() - started) / ROWS);
  }
  if (kept === 0) console.log('');
  return Math.min(...times);
}

const redact = queryRedactor();
console.log('targets        push before  push after  redaction alone (ns/row)');
for (const kind of ['no query', 'plain query', 'token query'] as const) {
  const batch = records(kind);
  // Warm-up of both paths, then measured alternately.
  nsPerRow(batch, redact);
  nsPerRow(batch, undefined);
  const before = nsPerRow(batch, undefined);
  const after = nsPerRow(batch, redact);
  const alone = nsPerRedaction(batch, redact);
  console.log(`${kind.padEnd(14)} ${before.toFixed(1).padStart(11)} ${after.toFixed(1).padStart(11)} ${alone.toFixed(1).padStart(12)}`);
}
