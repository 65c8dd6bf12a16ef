import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { StoreUnavailableError } from '../../src/errors.js';
import { HistoryBuffer } from '../../src/store/history-buffer.js';
import type { HistoryPage, HistoryRetention, HistoryStore, RequestRecord } from '../../src/store/store.js';

const RETENTION: HistoryRetention = { maxRecords: 1000, maxAgeMs: 60_000 };

/** A HistoryStore that counts calls; `failAppends` makes appends fail, `delayMs` makes them slow. */
class FakeStore implements HistoryStore {
  batches: RequestRecord[][] = [];
  prunes: Array<{ retention: HistoryRetention; now: Date }> = [];
  calls = 0;
  failAppends = false;
  /** Appends fail as a store out of reach does (StoreUnavailableError). */
  unreachable = false;
  delayMs = 0;
  pruneDelayMs = 0;
  concurrent = 0;
  maxConcurrent = 0;

  async appendRequests(records: readonly RequestRecord[]): Promise<void> {
    this.calls += 1;
    this.concurrent += 1;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
    try {
      if (this.delayMs) await sleep(this.delayMs);
      if (this.failAppends) throw new Error('disk on fire');
      if (this.unreachable) throw new StoreUnavailableError('the store postgres://db cannot be reached');
      this.batches.push([...records]);
    } finally {
      this.concurrent -= 1;
    }
  }

  async queryRequests(): Promise<HistoryPage> {
    this.calls += 1;
    return { items: [] };
  }

  async pruneRequests(retention: HistoryRetention, now: Date): Promise<number> {
    this.calls += 1;
    if (this.pruneDelayMs) await sleep(this.pruneDelayMs);
    this.prunes.push({ retention, now });
    return 0;
  }
}

/** A logger that keeps what it was told. */
function fakeLogger() {
  const lines: Array<{ level: string; msg: string; obj: Record<string, unknown> }> = [];
  const at = (level: string) => (obj: Record<string, unknown>, msg: string) => void lines.push({ level, msg, obj });
  const logger = { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') } as unknown as Logger;
  return { logger, lines };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function rec(i: number, extra: Partial<RequestRecord> = {}): RequestRecord {
  return {
    timeMs: 1_700_000_000_000 + i,
    app: 'web',
    method: 'GET',
    path: `/r/${i}`,
    status: 200,
    durationMs: 1,
    bytesIn: 0,
    bytesOut: 1,
    client: '127.0.0.1',
    waited: false,
    ...extra,
  };
}

describe('HistoryBuffer', () => {
  it('does nothing with the store until started or flushed', async () => {
    const store = new FakeStore();
    const buffer = new HistoryBuffer({ store, retention: RETENTION });
    buffer.record(rec(1));
    await sleep(20);
    assert.equal(store.calls, 0);
    assert.equal(buffer.buffered, 1);
  });

  it('writes many records as one batch, in the order they were recorded', async () => {
    const store = new FakeStore();
    const buffer = new HistoryBuffer({ store, retention: RETENTION });
    for (let i = 0; i < 500; i++) buffer.record(rec(i));
    await buffer.flush();
    assert.equal(store.batches.length, 1, 'one appendRequests call');
    assert.deepEqual(store.batches[0]!.map((r) => r.path), Array.from({ length: 500 }, (_, i) => `/r/${i}`));
    assert.equal(buffer.buffered, 0);
    await buffer.flush();
    assert.equal(store.batches.length, 1, 'nothing to write: no call');
  });

  it('drops and counts records beyond maxBuffered instead of growing, saying so once, and again when it has caught up', async () => {
    const store = new FakeStore();
    const { logger, lines } = fakeLogger();
    const buffer = new HistoryBuffer({ store, retention: RETENTION, maxBuffered: 5, logger });
    for (let i = 0; i < 8; i++) buffer.record(rec(i));
    assert.equal(buffer.buffered, 5);
    assert.equal(buffer.dropped, 3);
    assert.deepEqual(lines.filter((l) => l.level === 'warn').map((l) => l.msg), ['the request history cannot keep up with the requests; records are dropped until it catches up']);
    await buffer.flush();
    assert.deepEqual(store.batches[0]!.map((r) => r.path), ['/r/0', '/r/1', '/r/2', '/r/3', '/r/4']);
    assert.ok(lines.some((l) => l.level === 'info' && l.msg === 'the request history has caught up' && l.obj.dropped === 3));
    buffer.record(rec(9)); // room again after the flush
    assert.equal(buffer.buffered, 1);
    assert.equal(buffer.dropped, 3);
  });

  it('drops a record without an app or a valid time rather than failing the whole batch', async () => {
    const store = new FakeStore();
    const buffer = new HistoryBuffer({ store, retention: RETENTION });
    buffer.record(rec(1));
    buffer.record(rec(2, { timeMs: Number.NaN }));
    buffer.record(rec(3, { app: '' }));
    buffer.record(null as unknown as RequestRecord);
    buffer.record(rec(4));
    assert.equal(buffer.dropped, 3);
    await buffer.flush();
    assert.deepEqual(store.batches[0]!.map((r) => r.path), ['/r/1', '/r/4']);
  });

  it('flushes on its timer once started', async () => {
    const store = new FakeStore();
    const buffer = new HistoryBuffer({ store, retention: RETENTION, flushEveryMs: 10 });
    buffer.start();
    try {
      for (let i = 0; i < 50; i++) buffer.record(rec(i));
      await until(() => store.batches.length === 1, 'the timer flush');
      assert.equal(store.batches[0]!.length, 50);
      buffer.record(rec(50));
      await until(() => store.batches.length === 2, 'the next timer flush');
      assert.deepEqual(store.batches[1]!.map((r) => r.path), ['/r/50']);
    } finally {
      await buffer.close();
    }
  });

  it('never runs two writes at once while the store is slow', async () => {
    const store = new FakeStore();
    store.delayMs = 60;
    const buffer = new HistoryBuffer({ store, retention: RETENTION, flushEveryMs: 2 });
    let flushes = 0;
    const flush = buffer.flush.bind(buffer);
    buffer.flush = () => ((flushes += 1), flush());
    buffer.start();
    try {
      for (let round = 0; round < 5; round++) {
        for (let i = 0; i < 10; i++) buffer.record(rec(round * 10 + i));
        await sleep(25);
      }
    } finally {
      await buffer.close();
    }
    assert.equal(store.maxConcurrent, 1);
    assert.equal(store.batches.flat().length, 50, 'every record written once');
    assert.ok(store.batches.length < 50 / 10 + 2, `batched, not one call per tick: ${store.batches.length} calls`);
    // ~60 ticks passed; a tick while a write is queued adds no flush behind it.
    assert.ok(flushes <= store.batches.length + 2, `flushes do not pile up behind a slow write: ${flushes}`);
  });

  it('logs a failed write once per outage, counts the lost records and never rejects', async () => {
    const store = new FakeStore();
    const { logger, lines } = fakeLogger();
    const buffer = new HistoryBuffer({ store, retention: RETENTION, logger });
    store.failAppends = true;
    for (let i = 0; i < 4; i++) buffer.record(rec(i));
    await buffer.flush(); // resolves although the store failed
    buffer.record(rec(5));
    await buffer.flush();
    assert.equal(buffer.dropped, 5);
    const errors = lines.filter((l) => l.level === 'error');
    assert.equal(errors.length, 1, 'one error line for the outage, not one per flush');
    assert.equal(errors[0]!.obj.err, 'disk on fire');
    assert.equal(errors[0]!.obj.lost, 4);

    store.failAppends = false;
    buffer.record(rec(6));
    await buffer.flush();
    assert.deepEqual(store.batches.map((b) => b.length), [1]);
    assert.ok(lines.some((l) => l.level === 'info' && /written again/.test(l.msg)), 'the recovery is logged');
  });

  it('holds the records while the store is out of reach (within maxBuffered) and writes them when it is back', async () => {
    const store = new FakeStore();
    const { logger, lines } = fakeLogger();
    const buffer = new HistoryBuffer({ store, retention: RETENTION, logger, maxBuffered: 6 });
    store.unreachable = true;
    for (let i = 0; i < 4; i++) buffer.record(rec(i));
    await buffer.flush();
    assert.equal(buffer.buffered, 4, 'the failed batch is kept');
    for (let i = 4; i < 8; i++) buffer.record(rec(i));
    await buffer.flush();
    assert.equal(buffer.buffered, 6, 'kept within maxBuffered');
    assert.equal(buffer.dropped, 2, 'what did not fit is counted');
    assert.equal(lines.filter((l) => l.level === 'warn').length, 1, 'one line for the outage');
    store.unreachable = false;
    await buffer.flush();
    assert.deepEqual(store.batches.flat().map((r) => r.path), ['/r/0', '/r/1', '/r/2', '/r/3', '/r/4', '/r/5'], 'what was held, written in order');
    assert.equal(buffer.buffered, 0);
  });

  it('close() writes what is left, then drops later records', async () => {
    const store = new FakeStore();
    const buffer = new HistoryBuffer({ store, retention: RETENTION, flushEveryMs: 60_000 });
    buffer.start();
    for (let i = 0; i < 7; i++) buffer.record(rec(i));
    await buffer.close();
    assert.deepEqual(store.batches.map((b) => b.length), [7]);
    buffer.record(rec(8));
    assert.equal(buffer.dropped, 1);
    assert.equal(buffer.buffered, 0);
    await buffer.close(); // twice is fine
    assert.equal(store.batches.length, 1);
  });

  it('prunes with its retention on start and then on its own timer', async () => {
    const store = new FakeStore();
    const buffer = new HistoryBuffer({ store, retention: RETENTION, pruneEveryMs: 15, flushEveryMs: 60_000 });
    const before = Date.now();
    buffer.start();
    try {
      await until(() => store.prunes.length >= 3, 'three prunes');
    } finally {
      await buffer.close();
    }
    assert.equal(store.prunes[0]!.retention, RETENTION);
    assert.ok(store.prunes[0]!.now.getTime() >= before);
    assert.equal(store.batches.length, 0, 'pruning does not write');
  });

  it('close() waits for a prune under way, so the store may be closed right after', async () => {
    const store = new FakeStore();
    store.pruneDelayMs = 50;
    const buffer = new HistoryBuffer({ store, retention: RETENTION });
    buffer.start(); // starts a prune
    await buffer.close();
    assert.equal(store.prunes.length, 1, 'the prune finished before close() resolved');
  });

  it('does not keep the process alive', () => {
    const module = fileURLToPath(new URL('../../src/store/history-buffer.js', import.meta.url));
    const script = `import { HistoryBuffer } from ${JSON.stringify(module)};
      const store = { appendRequests: async () => {}, queryRequests: async () => ({ items: [] }), pruneRequests: async () => 0 };
      const buffer = new HistoryBuffer({ store, retention: { maxRecords: 1, maxAgeMs: 1 }, flushEveryMs: 10, pruneEveryMs: 10 });
      buffer.start();
      buffer.record({ time: new Date(), app: 'a', method: 'GET', path: '/', status: 200, durationMs: 1, bytesIn: 0, bytesOut: 0, client: '', waited: false });
      console.log('started');`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(child.signal, null, 'the child exited by itself, it was not killed by the timeout');
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout.trim(), 'started');
  });
});
