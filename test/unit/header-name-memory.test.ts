import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { lowerHeaderName } from '../../src/proxy/header-name.js';
import { parsePlainRequestHead, type PlainRequestHead } from '../../src/proxy/front/request-head.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap bytes in use after a full collection. */
function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

test('the names the lower-casing table keeps hold no request head: a peer sending new names in large heads pins nothing', () => {
  const before = heapAfterGc();
  const filler = 'f'.repeat(15 * 1024);
  for (let i = 0; i < 256; i++) {
    // A name of 13 to 40 characters sliced from the head's text, as the front's parser gives it.
    const name = `X-Name-Number-${String(i).padStart(4, '0')}`;
    const head = parsePlainRequestHead(Buffer.from(`GET / HTTP/1.1\r\nHost: a\r\n${name}: ${filler}${i}\r\n\r\n`, 'latin1'), 100) as PlainRequestHead;
    assert.equal(lowerHeaderName(head.rawHeaders[2]!), name.toLowerCase());
  }
  const grown = heapAfterGc() - before;
  // 256 names of some 20 bytes: a few KiB with the table. Each head kept would add 15 KiB (3.8 MiB in all).
  assert.ok(grown < 1024 * 1024, `the table holds ${Math.round(grown / 1024)} KiB`);
});
