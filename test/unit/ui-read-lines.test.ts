// The dashboard's line reader (logs view, event stream) against what a careless or
// hostile app writes: a line without end, line ends split across chunks.
import { test } from 'node:test';
import assert from 'node:assert/strict';

type ReadLines = (body: ReadableStream<Uint8Array>, signal?: AbortSignal, options?: { maxLineChars?: number }) => AsyncGenerator<string>;
// The dashboard's own module, as the browser loads it (from dist/test/unit/ to src/).
const api = (await import(new URL('../../../src/ui/static/js/api.js', import.meta.url).href)) as { readLines: ReadLines; LINE_CUT_MARK: string };

function body(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    pull(controller) {
      const next = chunks.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(encoder.encode(next));
    },
  });
}

async function lines(chunks: string[], options?: { maxLineChars?: number }): Promise<string[]> {
  const out: string[] = [];
  for await (const line of api.readLines(body(chunks), undefined, options)) out.push(line);
  return out;
}

test('readLines: lines split across chunks, \\r\\n split between two chunks ends one line', async () => {
  assert.deepEqual(await lines(['a\nb', 'c\r', '\nd\re\r\n', '\n', 'f']), ['a', 'bc', 'd', 'e', '', 'f']);
});

test('readLines: a line without end is shown cut at maxLineChars as soon as it is that long, and holds nothing more', async () => {
  const chunk = 'x'.repeat(64 * 1024);
  let pulled = 0;
  const total = 2000;
  const encoder = new TextEncoder();
  // 128 MB without a newline, then one more line: made only as fast as it is read.
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      if (pulled <= total) controller.enqueue(encoder.encode(chunk));
      else if (pulled === total + 1) controller.enqueue(encoder.encode('\nnext line\n'));
      else controller.close();
    },
  });
  const seen: Array<{ line: string; pulled: number }> = [];
  const started = performance.now();
  for await (const line of api.readLines(stream, undefined, { maxLineChars: 16 * 1024 })) seen.push({ line, pulled });
  assert.equal(seen.length, 2);
  assert.equal(seen[0]!.line, 'x'.repeat(16 * 1024) + api.LINE_CUT_MARK);
  assert.ok(seen[0]!.pulled < 10, `the cut line came only after ${seen[0]!.pulled} chunks`);
  assert.equal(seen[1]!.line, 'next line');
  // Linear in what arrives: searching the whole line so far at every chunk takes minutes here.
  assert.ok(performance.now() - started < 60_000, 'reading 128 MB without a newline took over a minute');
});

test('readLines: without maxLineChars (the event stream) a long line is kept whole', async () => {
  const long = 'y'.repeat(100_000);
  assert.deepEqual(await lines([long.slice(0, 30_000), long.slice(30_000), '\nz']), [long, 'z']);
});

type Batch = { push(line: string): void; take(): { lines: string[]; dropped: number }; readonly size: number };
const { LineBatch } = (await import(new URL('../../../src/ui/static/js/line-batch.js', import.meta.url).href)) as { LineBatch: new (max: number) => Batch };

test('LineBatch: lines flooding in while no frame draws them (a hidden tab) stay bounded; the newest are kept, the rest counted', () => {
  const batch = new LineBatch(100);
  for (let i = 0; i < 1_000_000; i++) {
    batch.push(`line ${i}`);
    assert.ok(batch.size < 200, `${batch.size} lines held`);
  }
  const { lines, dropped } = batch.take();
  assert.equal(lines.length, 100);
  assert.equal(lines[0], 'line 999900');
  assert.equal(lines.at(-1), 'line 999999');
  assert.equal(dropped, 999_900);
  batch.push('next');
  assert.deepEqual(batch.take(), { lines: ['next'], dropped: 0 });
});
