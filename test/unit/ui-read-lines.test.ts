// The dashboard's line reader (src/ui/static/js/api.js), run here in Node as it runs in
// the page: the logs view and the event stream both read through it, and an app decides
// what its output holds (a megabyte on one line, or no newline ever).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { findStaticDir } from '../../src/ui/serve-ui.js';

type ReadLines = (body: ReadableStream<Uint8Array>, signal?: AbortSignal, options?: { maxChars?: number; cutMark?: string }) => AsyncGenerator<string>;

async function loadReader(): Promise<{ readLines: ReadLines; MAX_LINE_CHARS: number }> {
  const dir = findStaticDir();
  assert.ok(dir);
  return (await import(pathToFileURL(join(dir, 'js', 'api.js')).href)) as { readLines: ReadLines; MAX_LINE_CHARS: number };
}

function streamOf(chunks: Iterable<string>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const it = chunks[Symbol.iterator]();
  return new ReadableStream({
    pull(controller) {
      const next = it.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
  });
}

async function collect(lines: AsyncGenerator<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

test('lines split across chunks come out whole; CRLF split between two chunks ends one line', async () => {
  const { readLines } = await loadReader();
  const lines = await collect(readLines(streamOf(['one\ntw', 'o\r', '\nthree\r\nfour\rfive', '\n\nlast'])));
  assert.deepEqual(lines, ['one', 'two', 'three', 'four', 'five', '', 'last']);
});

test('a line far past the limit is cut at it, marked, and the rest of it skipped up to its newline', async () => {
  const { readLines } = await loadReader();
  const chunk = 'x'.repeat(64 * 1024);
  // 8 MiB on one line, then an ordinary one.
  const chunks = [...Array.from({ length: 128 }, () => chunk), '\nnext\n'];
  const lines = await collect(readLines(streamOf(chunks), undefined, { maxChars: 16_384, cutMark: ' [cut]' }));
  assert.equal(lines.length, 2, `lines of ${lines.map((l) => l.length).join(', ')} characters`);
  assert.equal(lines[0], 'x'.repeat(16_384) + ' [cut]');
  assert.equal(lines[1], 'next');
  // A long line inside one chunk is cut too.
  const within = await collect(readLines(streamOf([`${'y'.repeat(100)}\nz\n`]), undefined, { maxChars: 10, cutMark: '…' }));
  assert.deepEqual(within, ['y'.repeat(10) + '…', 'z']);
});

test('by default no line held exceeds MAX_LINE_CHARS, however long the output runs without a newline', async () => {
  const { readLines, MAX_LINE_CHARS } = await loadReader();
  const chunk = 'z'.repeat(256 * 1024);
  let longest = 0;
  let count = 0;
  // 32 MiB with no newline at all: the endless progress bar.
  for await (const line of readLines(streamOf(Array.from({ length: 128 }, () => chunk)))) {
    longest = Math.max(longest, line.length);
    count++;
  }
  assert.equal(count, 1);
  assert.equal(longest, MAX_LINE_CHARS);
});
